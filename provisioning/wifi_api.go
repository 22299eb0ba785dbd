package provisioning

import (
	"context"
	"net/http"

	"github.com/callbox/callbox/provisioning/wifi"
)

// WiFi is the box's Wi-Fi as the page uses it; wifi.Setup gives the real one.
type WiFi = wifi.Chooser

// NetworkStatus is how the box is connected (wifi.Setup.Status).
type NetworkStatus = wifi.NetworkStatus

func (s *Server) handleWiFiScan(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	if s.opts.WiFi == nil {
		writeError(w, http.StatusNotFound, "this box has no Wi-Fi to set up")
		return
	}
	nets, err := s.opts.WiFi.Scan(r.Context())
	if err != nil {
		s.log.Warn("wifi scan failed", "err", err)
		writeError(w, http.StatusBadGateway, "the Wi-Fi scan failed: "+oneLine(err))
		return
	}
	if nets == nil {
		nets = []wifi.Network{}
	}
	writeJSON(w, http.StatusOK, map[string][]wifi.Network{"networks": nets})
}

func (s *Server) handleWiFiConnect(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	if s.opts.WiFi == nil {
		writeError(w, http.StatusNotFound, "this box has no Wi-Fi to set up")
		return
	}
	var req struct {
		SSID       string `json:"ssid"`
		Passphrase string `json:"passphrase"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	if req.SSID == "" || len(req.SSID) > 32 {
		writeFieldErrors(w, []fieldError{{"ssid", "the network name must have 1 to 32 bytes"}})
		return
	}
	if req.Passphrase != "" && (len(req.Passphrase) < 8 || len(req.Passphrase) > 63) {
		writeFieldErrors(w, []fieldError{{"passphrase", "a WPA passphrase has 8 to 63 characters"}})
		return
	}
	if err := s.opts.WiFi.Connect(r.Context(), req.SSID, req.Passphrase); err != nil {
		s.log.Warn("wifi connect failed", "ssid", req.SSID, "err", err)
		writeError(w, http.StatusBadGateway, "the box could not join "+req.SSID+": "+oneLine(err))
		return
	}
	s.log.Info("wifi network saved", "ssid", req.SSID)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) network(ctx context.Context) NetworkStatus {
	if s.opts.Network == nil {
		return NetworkStatus{}
	}
	return s.opts.Network(ctx)
}

// checkWiFiChoice names what is wrong with a network chosen during setup.
func (s *Server) checkWiFiChoice(c *WiFiChoice) []fieldError {
	switch {
	case c == nil:
		return nil
	case s.opts.WiFi == nil:
		return []fieldError{{"ssid", "this box has no Wi-Fi to set up"}}
	case c.SSID == "" || len(c.SSID) > 32:
		return []fieldError{{"ssid", "the network name must have 1 to 32 bytes"}}
	case c.Passphrase != "" && (len(c.Passphrase) < 8 || len(c.Passphrase) > 63):
		return []fieldError{{"passphrase", "a WPA passphrase has 8 to 63 characters"}}
	}
	return nil
}
