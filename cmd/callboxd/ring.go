package main

// Calls that ring (ring.enabled): the box waits in its line with camera
// and microphone closed; a caller rings it (a tone on the speaker, a card
// with the caller's name, the call LED blinking) and the person answers
// or declines with a button, a remote, the local API or the page. Calling
// a contact shows "calling …" until the other end answers, and how it
// ended when it did not.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
)

// outcomeShownFor is how long the screen says how a call out ended.
const outcomeShownFor = 10 * time.Second

// lineOptions are the call's line as cfg sets it; nil without ring.enabled.
func lineOptions(cfg config.Config) *call.LineOptions {
	if !cfg.Ring.Enabled {
		return nil
	}
	opts := &call.LineOptions{RingFor: time.Duration(cfg.Ring.TimeoutS) * time.Second, AutoAnswer: cfg.Ring.AutoAnswer,
		AutoAnswerAfter: time.Duration(cfg.Ring.AutoAnswerAfterS) * time.Second, DoNotDisturb: doNotDisturbAtStart(cfg, time.Now())} // quiet.go
	for _, room := range cfg.Controls.Contacts {
		opts.Contacts = append(opts.Contacts, call.Contact{Name: contactName(cfg, room), Line: room})
	}
	return opts
}

// contactName is how people know the contact whose line is room: its
// name from the settings, else the room.
func contactName(cfg config.Config, room string) string {
	if name := cfg.Controls.ContactNames[room]; name != "" {
		return name
	}
	return room
}

// callerName is a caller as the screen and page name them: the contact's
// name from the settings, else the name they gave, cleaned.
func callerName(c call.Caller) string {
	if c.Contact != "" {
		return c.Contact
	}
	return shownName(call.Member{Identity: c.Identity, Name: c.Name}) // participants.go
}

// callCard is what the screen shows over everything for st, and until
// when: the caller who rings, the contact being called, or how the last
// call out ended. nil: nothing.
func callCard(cfg config.Config, st call.Status) (*compose.Card, time.Time) {
	switch {
	case st.State == call.Ringing && len(st.Callers) > 0:
		card := &compose.Card{Title: callerName(st.Callers[0]), Headline: true, Lines: []string{"is calling"}}
		if n := len(st.Callers) - 1; n > 0 {
			card.Lines[0] = fmt.Sprintf("is calling, with %d more", n)
		}
		if st.AutoAnswerIn > 0 {
			card.Lines = append(card.Lines, fmt.Sprintf("Answering by itself in %d s", st.AutoAnswerIn))
		}
		card.Lines = append(card.Lines, "Answer: the call button. Decline: hang up.")
		return card, time.Time{}
	case st.State == call.Calling:
		heard := "Connecting…"
		if st.Heard == call.RingRinging {
			heard = "Ringing…"
		}
		return &compose.Card{Title: "Calling " + contactName(cfg, st.Callee), Headline: true,
			Lines: []string{heard, "Stop: hang up."}}, time.Time{}
	case st.Outcome.State != "" && time.Since(st.Outcome.At) < outcomeShownFor && st.State != call.InCall:
		return &compose.Card{Title: contactName(cfg, st.Outcome.Callee) + " " + outcomeWords(st.Outcome.State)},
			st.Outcome.At.Add(outcomeShownFor)
	case st.State == call.Idle && st.Line:
		if lines := missedLines(st.Missed, st.LastCallAt); len(lines) > 0 {
			return &compose.Card{Title: "Missed calls", Lines: lines}, time.Time{}
		}
	}
	return nil, time.Time{}
}

// outcomeWords say an outcome after the callee's name.
func outcomeWords(state string) string {
	switch state {
	case call.RingDeclined:
		return "declined the call"
	case call.RingNoAnswer:
		return "did not answer"
	case call.RingNotAvailable:
		return "is not available"
	}
	return state
}

// callStatusText is the status line's words for st at now: with a line,
// who rings and whom the box calls; else the call's own (Status.Text).
func callStatusText(cfg config.Config, st call.Status, now time.Time) string {
	switch {
	case st.State == call.Ringing && len(st.Callers) > 0:
		return "ringing: " + callerName(st.Callers[0]) + " is calling"
	case st.State == call.Calling:
		return "calling " + contactName(cfg, st.Callee)
	case st.State == call.Idle && st.Line && st.DoNotDisturb:
		if until := doNotDisturbUntil(quietHours(cfg), now); !until.IsZero() {
			return "do not disturb until " + until.Format("15:04") + ": calls are declined"
		}
		return "do not disturb: calls are declined"
	case st.State == call.InCall && st.Callee != "":
		// "back in the call with Grandma, relayed over …"
		summary := st.Summary(now)
		return summary + " with " + contactName(cfg, st.Callee) + strings.TrimPrefix(st.Text(now), summary)
	}
	return st.Text(now)
}

// soundsFor sets the box's own sounds on the mixer for st: the ring tone
// while a call rings, the ringback while the box's call rings elsewhere.
func soundsFor(mixer *pipeline.Mixer, st call.Status, playing map[string]bool) {
	want := map[string]func() pipeline.Sound{}
	switch {
	case st.State == call.Ringing && st.AutoAnswerIn == 1: // the last second before answering by itself
		want["chime"] = pipeline.Chime
	case st.State == call.Ringing:
		want["ring"] = pipeline.RingTone
	}
	if st.State == call.Calling && st.Heard == call.RingRinging {
		want["ringback"] = pipeline.Ringback
	}
	for name := range playing {
		if want[name] == nil {
			mixer.SetSound(name, nil)
			delete(playing, name)
		}
	}
	for name, sound := range want {
		if !playing[name] {
			mixer.SetSound(name, sound())
			playing[name] = true
		}
	}
}

// whileCallWanted runs part while a call is wanted, until ctx ends: the
// camera and the microphone are open only then, so that an idle or
// ringing box has them closed.
func (d *daemon) whileCallWanted(ctx context.Context, part func(context.Context)) {
	statuses, stop := d.session.Watch()
	defer stop()
	for {
		for wanted := false; !wanted; {
			select {
			case <-ctx.Done():
				return
			case st := <-statuses:
				wanted = st.CallWanted
			}
		}
		partCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			part(partCtx)
		}()
		for wanted := true; wanted && ctx.Err() == nil; {
			select {
			case <-ctx.Done():
			case st := <-statuses:
				wanted = st.CallWanted
			}
		}
		cancel()
		<-done
		if ctx.Err() != nil {
			return
		}
	}
}

// Act, Ring and Participants are the local API's provisioning.LocalCalls.
func (b *localBox) Act(ctx context.Context, action string) (string, error) {
	d := b.current()
	if d == nil {
		return "", &provisioning.LocalError{Status: http.StatusConflict, Message: "no call is set up"}
	}
	switch action {
	case actionShare, actionShareStart, actionShareStop:
		return d.contentAction(ctx, action) // content.go
	case actionShareOther:
		return d.rx.showOtherShare(), nil // receive.go
	}
	a, err := call.ParseAction(action, len(d.cfg.Controls.Contacts))
	if err != nil {
		return "", &provisioning.LocalError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	return d.controller.Do(a), nil
}

func (b *localBox) Participants() []provisioning.Participant {
	d := b.current()
	if d == nil {
		return []provisioning.Participant{}
	}
	return participantsOf(d.session.Members(), d.rx.shown, d.rx.decoderOf) // participants.go
}

func (b *localBox) Ring() provisioning.RingStatus {
	d := b.current()
	if d == nil {
		return provisioning.RingStatus{State: call.Idle.String(), Missed: []provisioning.MissedCall{}}
	}
	return d.ringStatus()
}

// ringStatus is how the call stands, for the local API and the page.
func (d *daemon) ringStatus() provisioning.RingStatus {
	st := d.session.Status()
	rs := provisioning.RingStatus{State: st.State.String(), Heard: st.Heard, Missed: []provisioning.MissedCall{},
		DoNotDisturb: st.DoNotDisturb}
	if until := doNotDisturbUntil(quietHours(d.cfg), time.Now()); st.DoNotDisturb && !until.IsZero() {
		rs.DoNotDisturbUntil = until.Format("15:04")
	}
	for _, c := range st.Callers {
		rs.Callers = append(rs.Callers, callerName(c))
	}
	if st.Callee != "" {
		rs.Callee = contactName(d.cfg, st.Callee)
	}
	if st.Outcome.State != "" {
		rs.Outcome, rs.OutcomeOf = st.Outcome.State, contactName(d.cfg, st.Outcome.Callee)
	}
	for _, m := range st.Missed {
		rs.Missed = append(rs.Missed, provisioning.MissedCall{Name: callerName(m.Caller), Line: m.Line, At: m.At, Why: m.Why})
	}
	return rs
}

// missedLines are the calls missed since the box was last in a call, as
// the idle screen lists them.
func missedLines(missed []call.MissedCall, since time.Time) []string {
	var lines []string
	for i, m := range missed {
		if m.At.Before(since) {
			break
		}
		if i == 3 {
			lines = append(lines, "and more: callboxctl calls, or the status page")
			break
		}
		lines = append(lines, fmt.Sprintf("%s, %s", callerName(m.Caller), m.At.Format("Mon 15:04")))
	}
	return lines
}
