package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
	"github.com/callbox/callbox/provisioning"
)

// TestStatusSaysWhichEncoderAndWhy: the status page tells the codec in use
// and why it was chosen, as the daemon decided it.
func TestStatusSaysWhichEncoderAndWhy(t *testing.T) {
	s := newSupervisor(slog.Default(), provisioning.Boot{Config: config.Default()})
	if st := s.Status(); st.State != "idle" {
		t.Fatalf("before the call starts: %q, want idle", st.State)
	}
	d := &daemon{session: call.New(call.Options{})}
	d.encoderChoice.set(v4l2m2m.Choice{Codec: media.CodecH264, Reason: "no hardware encoder of H264 found"})
	s.daemon = d
	st := s.Status()
	if !strings.Contains(st.CodecReason, "no hardware encoder of H264 found") {
		t.Errorf("status gives the codec's reason as %q, want the daemon's choice", st.CodecReason)
	}
}
