package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/provisioning"
)

// actingBox answers the local API's actions, saying what it was asked.
type actingBox struct{ asked chan string }

func (actingBox) Screenshot(context.Context) ([]byte, error) { return nil, nil }
func (actingBox) Invite(context.Context, provisioning.InviteRequest) (provisioning.InviteResponse, error) {
	return provisioning.InviteResponse{}, nil
}
func (actingBox) Invites() provisioning.Invites            { return nil }
func (actingBox) BoxKey() string                           { return "" }
func (actingBox) Ring() provisioning.RingStatus            { return provisioning.RingStatus{} }
func (actingBox) Participants() []provisioning.Participant { return nil }
func (b actingBox) Act(_ context.Context, a string) (string, error) {
	b.asked <- a
	return "did " + a, nil
}

// callboxctl share start|stop|other asks the running box for share_start,
// share_stop and share_other, and prints what it did; anything else is
// refused.
func TestShareStartStop(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "control.sock")
	box := actingBox{asked: make(chan string, 3)}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- provisioning.ServeLocal(ctx, socket, box, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeLocal: %v", err)
		}
	})

	for _, what := range []string{"start", "stop", "other"} {
		var out bytes.Buffer
		var err error
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if err = act(ctx, "share", []string{what, "-socket", socket}, &out); err == nil || time.Now().After(deadline) {
				break // the socket is there once the API serves
			}
		}
		if err != nil {
			t.Fatalf("share %s: %v", what, err)
		}
		if got := <-box.asked; got != "share_"+what {
			t.Errorf("share %s asked the box for %q", what, got)
		}
		if got := strings.TrimSpace(out.String()); got != "did share_"+what {
			t.Errorf("share %s printed %q", what, got)
		}
	}
	if err := act(ctx, "share", []string{"sideways"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "start, stop or other") {
		t.Errorf("share sideways: %v, want an error saying start, stop or other", err)
	}
}
