package provisioning

// What the admin asks of the box from the page: call, hang up, restart,
// do not disturb, share the content input, and the factory reset.

import (
	"context"
	"net/http"
	"time"
)

func (s *Server) action(do func(), what string) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
		if boot := s.store.Boot(); boot.SetupNeeded || boot.SettingsNeeded {
			writeError(w, http.StatusConflict, "the box has no settings to call with yet: save them first")
			return
		}
		s.log.Info("the admin asked: " + what)
		do()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}
}

// decodeOn reads a switch's request, {"on": true} or {"on": false};
// without one it answers why (what says what on and off do) and returns
// false as ok.
func decodeOn(w http.ResponseWriter, r *http.Request, what string) (on, ok bool) {
	var req struct {
		On *bool `json:"on"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeRequestError(w, err)
		return false, false
	}
	if req.On == nil {
		writeError(w, http.StatusBadRequest, "on must be true or false: "+what)
		return false, false
	}
	return *req.On, true
}

// handleDoNotDisturb turns do not disturb on or off: {"on": true}.
func (s *Server) handleDoNotDisturb(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	on, ok := decodeOn(w, r, "do not disturb on or off")
	if !ok {
		return
	}
	if err := s.ctl.DoNotDisturb(on); err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	s.log.Info("the admin asked: do not disturb", "on", on)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// shareWait is how long the page's share button waits for the share to
// start or stop (starting publishes a track: the call server answers).
const shareWait = 10 * time.Second

// handleShare starts or stops the share of the content input: {"on": true}.
func (s *Server) handleShare(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	on, ok := decodeOn(w, r, "share the content input, or stop")
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), shareWait)
	defer cancel()
	if err := s.ctl.Share(ctx, on); err != nil {
		writeLocalError(w, err)
		return
	}
	s.log.Info("the admin asked: share the content input", "on", on)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) handleFactoryReset(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	var req struct {
		Confirm string `json:"confirm"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	if req.Confirm != "reset" {
		writeError(w, http.StatusBadRequest, `confirm must be "reset": a factory reset keeps nothing`)
		return
	}
	if err := s.FactoryReset(); err != nil {
		writeError(w, http.StatusInternalServerError, "the factory reset did not remove everything: "+oneLine(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// FactoryReset wipes the data directory, ends every session and reopens
// first-boot setup with a new setup code: the page's factory reset, and
// the box's button's. Its error, logged too, says what could not be removed.
func (s *Server) FactoryReset() error {
	err := s.store.Reset()
	s.mu.Lock()
	clear(s.sessions)
	s.setupCode = newSetupCode()
	s.cert, s.fingerprint = nil, ""
	s.mu.Unlock()
	s.log.Warn("factory reset: the settings, the password and the room key are gone")
	s.ctl.Apply(s.store.Boot())
	s.AnnounceSetup()
	if err != nil {
		s.log.Error("factory reset incomplete", "err", err)
	}
	return err
}
