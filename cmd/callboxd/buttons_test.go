package main

import (
	"math"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/provisioning"
)

// TestVolumeButtonsChangeWhatTheSpeakerPlays: the volume buttons change
// the level of the sound the receive side's mixer gives the speaker, the
// same mixer callboxd wires them to.
func TestVolumeButtonsChangeWhatTheSpeakerPlays(t *testing.T) {
	enc, err := pipeline.NewOpusEncoder(64000)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	tone, err := audio.NewTone(audio.ToneOptions{Frequency: 440, Amplitude: 0.5, Unpaced: true})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, enc.FrameSamples())
	var packets [][]byte
	for range 300 { // 6 s
		if err := tone.Read(t.Context(), pcm); err != nil {
			t.Fatal(err)
		}
		p, err := enc.Encode(pcm)
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, append([]byte(nil), p...))
	}
	cfg := config.Default()
	cfg.Controls.Buttons = map[string]config.Button{
		actionVolumeUp:   {Line: "GPIO5", ActiveLow: true, Pull: "up"},
		actionVolumeDown: {Line: "GPIO6", ActiveLow: true, Pull: "up"},
	}
	rx := newReceiver(cfg, quietLog)
	defer rx.mixer.Close()
	next := 0
	level := func() float64 { // what the speaker is given: 200 ms of the mix after 200 ms more
		var mixed []int16
		block := make([]int16, audio.SampleRate/50)
		for range 20 {
			if err := rx.mixer.Push("grandma", pipeline.JitterPacket{Seq: uint16(next), Data: packets[next]}); err != nil {
				t.Fatal(err)
			}
			next++
			rx.mixer.Mix(block)
			mixed = append(mixed, block...)
		}
		return audio.RMS(mixed[len(mixed)/2:])
	}
	level() // the jitter buffer fills
	full := level()
	synctest.Test(t, func(t *testing.T) {
		c := runControls(t, cfg.Controls, newIdleSession(), boxActions{speaker: rx.mixer})
		for range 5 {
			c.press("GPIO6", 200*time.Millisecond)
		}
		if got := level() / full; math.Abs(got-0.25) > 0.03 {
			t.Errorf("after five presses of volume down the speaker plays at %.2f of the level before, want 0.25 (50 %%)", got)
		}
		c.press("GPIO5", 200*time.Millisecond)
		if got := level() / full; math.Abs(got-0.36) > 0.03 {
			t.Errorf("after one press of volume up the speaker plays at %.2f, want 0.36 (60 %%)", got)
		}
	})
}

// TestFactoryResetButton: holding the factory-reset button does what the
// page's factory reset does: the data directory is emptied (but for the
// new TLS key the next setup is announced with), the daemon is told the
// box needs setting up, and a new setup code opens setup.
func TestFactoryResetButton(t *testing.T) {
	dir := t.TempDir()
	store, err := provisioning.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.APIKey, cfg.Call.APISecret = config.ServerURLs{"ws://10.99.0.1:7880"}, "family", "devkey", "secret-do-not-keep"
	cfg.Controls.Buttons = map[string]config.Button{actionFactoryReset: {Line: "GPIO26", ActiveLow: true, Pull: "up"}}
	if err := store.SaveConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := store.SaveSecrets(provisioning.Secrets{PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"}); err != nil {
		t.Fatal(err)
	}
	sup := newSupervisor(quietLog, store.Boot())
	page := provisioning.NewServer(provisioning.Options{Store: store, Controller: sup, Logger: quietLog})
	if page.SetupCode() != "" || sup.Status().State == "setup needed" {
		t.Fatalf("a set-up box: setup code %q, state %q", page.SetupCode(), sup.Status().State)
	}
	synctest.Test(t, func(t *testing.T) {
		c := runControls(t, cfg.Controls, newIdleSession(), boxActions{factoryReset: page.FactoryReset})
		c.press("GPIO26", time.Second) // a short press does nothing
		if entries, _ := os.ReadDir(dir); len(entries) == 0 {
			t.Fatal("a short press of the factory-reset button wiped the box")
		}
		c.press("GPIO26", 11*time.Second)
	})
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != provisioning.TLSKeyFile && e.Name() != provisioning.TLSCertFile { // made for the next setup
			t.Errorf("%s is still in the data directory after the factory reset", e.Name())
		}
	}
	if page.SetupCode() == "" || !store.Boot().SetupNeeded {
		t.Errorf("after the factory reset: setup code %q, setup needed %v; want setup open", page.SetupCode(), store.Boot().SetupNeeded)
	}
	if st := sup.Status().State; st != "setup needed" {
		t.Errorf("the daemon's state after the factory reset is %q, want setup needed", st)
	}
}
