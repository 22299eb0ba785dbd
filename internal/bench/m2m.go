package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// hostFigures are those measured before the bench enters its namespace:
// the lab's need root on the host, which the namespace does not have. One
// failing does not keep the others from being measured.
func hostFigures() error {
	return errors.Join(labFigure(), m2mFigures(), arm64Figure()) // lab.go, arm64.go
}

// m2mFigures prints simulcast_sw_cpu_ratio and m2m_allocs_per_frame. The
// second comes from the lab (root, so before the bench's namespace).
func m2mFigures() error {
	ratio, err := simulcastCPURatio()
	if err != nil {
		return fmt.Errorf("simulcast: %w", err)
	}
	fmt.Printf("simulcast_sw_cpu_ratio: %.3f\n", ratio)
	return m2mAllocsFigure()
}

// --- simulcast_sw_cpu_ratio -----------------------------------------------------

const simulcastRounds = 5

// simulcastCPURatio compares the CPU time of callboxd's simulcast send
// path in software (one YUYV capture converted once, halved to 360p and
// 180p, three x264 encoders, the two small ones with LowEffort and in one
// thread, three RTP packetizers) with the single-layer send path
// (conversion, one 720p x264, one packetizer) on the same frames. Rounds
// alternate so that both see the same machine; the median round's ratio
// is the figure. BenchmarkSimulcastCPURatio measures it alone.
func simulcastCPURatio() (float64, error) {
	yuyv, _, err := captureFrames(overheadFrames)
	if err != nil {
		return 0, err
	}
	settings := pipeline.VideoSettings{Width: benchWidth, Height: benchHeight, FPS: benchFPS,
		BitsPerSecond: 1_500_000, KeyframeInterval: 120}
	return medianCPURatio(simulcastRounds,
		func() error { return simulcastPath(settings, yuyv) },
		func() error { return sendPath(settings, yuyv) })
}

// simulcastPath is what callboxd runs with video.simulcast on and a
// software encoder, down to RTP packets.
func simulcastPath(s pipeline.VideoSettings, frames []camera.Frame) error {
	plan := pipeline.PlanSimulcast(s.Width, s.Height, s.BitsPerSecond)
	// The constructor callboxd's software simulcast uses (newSimulcastLayers).
	layers, err := pipeline.NewSoftwareSimulcastLayers(media.CodecH264, s, plan)
	if err != nil {
		return err
	}
	defer func() {
		for _, l := range layers {
			l.Encoder.Close()
		}
	}()
	var packetizers []rtp.Packetizer
	for range layers {
		packetizers = append(packetizers, rtp.NewPacketizer(1200, 96, 1, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000))
	}
	err = pipeline.SendSimulcast(context.Background(), &replay{frames: frames}, layers, func(layer int, f media.EncodedFrame) error {
		packetizers[layer].Packetize(f.Data, 90000/benchFPS)
		return nil
	})
	if errors.Is(err, errEndOfReplay) {
		return nil
	}
	return err
}

// --- m2m_allocs_per_frame -------------------------------------------------------

// allocsLine is what pipeline/v4l2m2m's TestLabAllocsPerFrame logs:
// testing.AllocsPerRun over the hardware encoder's Encode in steady state,
// on vicodec in the lab VM.
var allocsLine = regexp.MustCompile(`m2m_allocs_per_frame: ([0-9.]+) allocs`)

// m2mAllocsFigure runs the lab's m2m scenario (lab/scenarios/m2m.sh: the
// package's tests on the kernel's vicodec, vim2m and vivid) and prints the
// allocation count its steady-state test measured. This machine has no m2m
// device, and the package talks to the kernel directly (no fake driver to
// count against), so the lab's real driver is where it can be measured.
// It needs root on the host (lab/run.sh); without root it says why it is
// left out.
func m2mAllocsFigure() error {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: m2m_allocs_per_frame left out: lab/run.sh needs root")
		return nil
	}
	dir, err := os.MkdirTemp("", "callbox-bench-m2m-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	test := filepath.Join(dir, "v4l2m2m.test")
	build := exec.Command("go", "test", "-c", "-tags", "dynamic", "-o", test, "./pipeline/v4l2m2m")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("m2m lab: build the v4l2m2m tests: %w\n%s", err, out)
	}
	out := filepath.Join(dir, "run")
	if result, err := exec.Command("lab/run.sh", "-t", "300", "-o", out, "-b", test, "m2m").CombinedOutput(); err != nil {
		return fmt.Errorf("m2m lab: run.sh m2m: %w\n%s", err, lastLines(string(result), 5))
	}
	console, err := os.ReadFile(filepath.Join(out, "console.log"))
	if err != nil {
		return fmt.Errorf("m2m lab: %w", err)
	}
	m := allocsLine.FindSubmatch(console)
	if m == nil {
		return fmt.Errorf("m2m lab: the m2m scenario passed but its log has no m2m_allocs_per_frame line")
	}
	fmt.Printf("m2m_allocs_per_frame: %s allocs\n", m[1])
	return nil
}
