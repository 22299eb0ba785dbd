// Command lab-tone plays a steady sine wave on an ALSA playback device until
// it is stopped (SIGTERM, SIGINT) or -seconds pass. The lab VM has no aplay:
// its audio scenario plays this into snd-aloop's playback side, so that
// callboxd hears it on the capture side. It uses device/audio and nothing
// else, and builds static (CGO_ENABLED=0).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/callbox/callbox/device/audio"
)

func main() {
	device := flag.String("device", "hw:Loopback,0,0", "ALSA playback device")
	hz := flag.Float64("hz", 1000, "tone frequency in Hz")
	amplitude := flag.Float64("amplitude", 0.5, "fraction of full scale, 0 to 1")
	seconds := flag.Float64("seconds", 0, "stop after this long; 0 plays until stopped")
	flag.Parse()
	if err := play(*device, *hz, *amplitude, time.Duration(*seconds*float64(time.Second))); err != nil {
		fmt.Fprintln(os.Stderr, "lab-tone:", err)
		os.Exit(1)
	}
}

func play(device string, hz, amplitude float64, length time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if length > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, length)
		defer cancel()
	}
	// Unpaced: the device sets the pace, blocking each write until it has room.
	tone, err := audio.NewTone(audio.ToneOptions{Frequency: hz, Amplitude: amplitude, Unpaced: true})
	if err != nil {
		return err
	}
	defer tone.Close()
	out, err := audio.OpenPlayback(ctx, audio.PlaybackOptions{Device: device})
	if err != nil {
		return err
	}
	defer out.Close()
	fmt.Fprintf(os.Stderr, "lab-tone: playing %.0f Hz on %s\n", hz, device)
	buf := make([]int16, audio.SampleRate/50) // 20 ms
	for {
		if err := tone.Read(ctx, buf); err != nil {
			return ignoreStop(ctx, err)
		}
		if err := out.Write(ctx, buf); err != nil {
			return ignoreStop(ctx, err)
		}
	}
}

// ignoreStop turns the error of a write cut short by the stop into success.
func ignoreStop(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
