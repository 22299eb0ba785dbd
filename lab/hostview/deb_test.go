package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The box's log as journalctl -o cat puts it on the console, between
// kernel messages, with a serial line's carriage returns.
const consoleWithSetup = "[   40.1] EXT4-fs (vdb): mounted filesystem\r\n" +
	"lab: step: apt install /lab/debs/callbox_1_arm64.deb\r\n" +
	`time=2026-12-03T06:45:57.567Z level=INFO msg="TLS certificate" part=provisioning sha256_fingerprint=BA:19:C9:4E:2B:0A:8E:18:3E:BF:06:0D:2C:7E:7F:0A:1D:6D:BB:0F:73:5C:57:B0:87:C1:26:69:26:F0:6A:56` + "\r\n" +
	`time=2026-12-03T06:45:57.800Z level=WARN msg="the box needs setting up: open the address below on a phone and enter the setup code" part=provisioning setup_code=K7QM-2XWD addresses="10.99.1.2" tls_fingerprint=BA:19:C9:4E:2B:0A:8E:18:3E:BF:06:0D:2C:7E:7F:0A:1D:6D:BB:0F:73:5C:57:B0:87:C1:26:69:26:F0:6A:56` + "\r\n"

func TestSetupAnnouncementReadsTheBoxsLog(t *testing.T) {
	console := filepath.Join(t.TempDir(), "console.log")
	// After a factory reset the box announces a new code and key: the
	// newest counts.
	again := strings.NewReplacer("K7QM-2XWD", "PX3N-8HJB", "BA:19", "0C:77").Replace(consoleWithSetup)
	if err := os.WriteFile(console, []byte(consoleWithSetup+again), 0o644); err != nil {
		t.Fatal(err)
	}
	code, fingerprint, err := setupAnnouncement(context.Background(), console, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code != "PX3N-8HJB" {
		t.Errorf("setup code %q, want the newest, PX3N-8HJB", code)
	}
	if !strings.HasPrefix(fingerprint, "0C:77:C9:4E") || len(fingerprint) != 95 {
		t.Errorf("fingerprint %q, want the newest whole one, 0C:77:C9:4E…", fingerprint)
	}
}

func TestSetupAnnouncementWaitsAndGivesUp(t *testing.T) {
	console := filepath.Join(t.TempDir(), "console.log")
	// The certificate alone is not the announcement.
	if err := os.WriteFile(console, []byte(strings.SplitAfter(consoleWithSetup, "\r\n")[2]), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := setupAnnouncement(context.Background(), console, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no setup code") {
		t.Fatalf("got %v, want an error saying the console shows no setup code", err)
	}
}

func TestPickDevice(t *testing.T) {
	// What a box with vivid and snd-aloop lists (provisioning's SystemDevices).
	cameras := []boxDevice{{"testpattern", "Test pattern (no camera)"}, {"/dev/video0", "vivid (/dev/video0)"}}
	microphones := []boxDevice{{"tone", "Test tone (no microphone)"}, {"hw:0,0", "Loopback PCM (hw:0,0)"}, {"hw:0,1", "Loopback PCM (hw:0,1)"}}
	for _, c := range []struct {
		list   []boxDevice
		name   string
		suffix []string
		want   string
	}{
		{cameras, "vivid", nil, "/dev/video0"},
		{microphones, "Test tone", nil, "tone"},
		{microphones, "Loopback", []string{",1"}, "hw:0,1"},
	} {
		got, err := pickDevice(c.list, c.name, c.suffix...)
		if err != nil || got != c.want {
			t.Errorf("pickDevice(%s%v) = %q, %v; want %q", c.name, c.suffix, got, err, c.want)
		}
	}
	if _, err := pickDevice(cameras, "uvcvideo"); err == nil || !strings.Contains(err.Error(), "no uvcvideo device") {
		t.Errorf("a camera the box does not have: got %v, want an error naming it", err)
	}
}
