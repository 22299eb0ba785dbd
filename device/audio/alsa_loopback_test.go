//go:build linux && (amd64 || arm64 || arm || 386 || riscv64)

package audio

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// These run against the kernel's ALSA loopback card (modprobe snd-aloop),
// as in the lab VM: what is played on hw:Loopback,0,N is captured on
// hw:Loopback,1,N. Without the card they skip.

func needLoopback(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/asound/Loopback"); err != nil {
		t.Skip("no ALSA loopback card (modprobe snd-aloop)")
	}
}

func TestLoopbackRoundTrip(t *testing.T) {
	needLoopback(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	play, err := OpenPlayback(ctx, PlaybackOptions{Device: "hw:Loopback,0,2"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { play.Close() })
	capture, err := OpenCapture(ctx, CaptureOptions{Device: "hw:Loopback,1,2", Period: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { capture.Close() })

	tone, err := NewTone(ToneOptions{Frequency: 440, Amplitude: 0.5, Unpaced: true}) // the device sets the pace
	if err != nil {
		t.Fatal(err)
	}
	playCtx, stopPlaying := context.WithCancel(ctx)
	played := make(chan error, 1)
	go func() {
		buf := make([]int16, 960)
		for {
			if err := tone.Read(playCtx, buf); err != nil {
				played <- nil
				return
			}
			if err := play.Write(playCtx, buf); err != nil {
				if playCtx.Err() != nil {
					err = nil
				}
				played <- err
				return
			}
		}
	}()

	got := make([]int16, SampleRate*3/2)
	if err := capture.Read(ctx, got); err != nil {
		t.Fatal(err)
	}
	stopPlaying()
	if err := <-played; err != nil {
		t.Fatalf("playback: %v", err)
	}
	last := got[len(got)-SampleRate:] // past the start, when playback may not have begun
	if f := DominantFrequency(last, SampleRate); math.Abs(f-440) > 1 {
		t.Errorf("captured %.2f Hz, played 440 Hz", f)
	}
	if rms := RMS(last); rms < 0.5*32767/math.Sqrt2*0.9 {
		t.Errorf("captured RMS %.0f, played a half-scale sine (RMS 11585)", rms)
	}
}

func TestLoopbackBusy(t *testing.T) {
	needLoopback(t)
	first, err := OpenCapture(t.Context(), CaptureOptions{Device: "hw:Loopback,1,3"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Close() })
	_, err = OpenCapture(t.Context(), CaptureOptions{Device: "hw:Loopback,1,3"})
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "hw:Loopback,1,3") {
		t.Errorf("second open = %v, want ErrBusy naming hw:Loopback,1,3", err)
	}
}

func TestLoopbackSurvivesStalledReader(t *testing.T) {
	needLoopback(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	capture, err := OpenCapture(ctx, CaptureOptions{Device: "hw:Loopback,1,4"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { capture.Close() })
	buf := make([]int16, 960)
	if err := capture.Read(ctx, buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the stall under test: far past the device's buffer
	for range 10 {
		if err := capture.Read(ctx, buf); err != nil {
			t.Fatalf("Read after a stall: %v", err)
		}
	}
	if capture.Overruns() == 0 {
		t.Error("a 500 ms stall caused no overrun; is the buffer that large?")
	}
}

func TestLoopbackCancelRead(t *testing.T) {
	needLoopback(t)
	capture, err := OpenCapture(t.Context(), CaptureOptions{Device: "hw:Loopback,1,5"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { capture.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := capture.Read(ctx, make([]int16, 10*SampleRate)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read of 10 s with a 50 ms deadline = %v, want DeadlineExceeded", err)
	}
}
