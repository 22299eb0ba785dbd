// Command bench measures Callbox and prints one line per figure, as
// "name: value unit". `make bench` runs it; the README says what each
// figure measures and what it should be.
//
// The call figures come from a real call: a LiveKit server and callboxd in
// a private network namespace, watched by a viewer that decodes and reads
// the time the test pattern draws into each picture.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/provisioning"
)

// group is CALLBOX_BENCH: "" for every figure; "call" for the call figures
// only (start_to_first_frame_ms, glass_to_glass, rss_mb,
// ring_to_answer_media_ms), to measure a change to them in half a minute, without the lab and the CPU rounds;
// "network" for the figures under emulated networks (network.go; about
// eight minutes, CALLBOX_BENCH_PROFILES=thin,drop for some profiles only);
// "e2ee" for the figures of end-to-end encryption (e2ee.go); "receive"
// for the receive side's (receive.go); "kiosk" for the box against a
// browser kiosk (kiosk.go); "cluster" for node_failover_s (cluster.go);
// "arm64" for
// arm64_boot_to_in_call_s only (arm64.go; needs root, several minutes).
// CALLBOX_BENCH_DAEMON_LOG=debug shows callboxd's own log of a call (its
// join, ICE and DTLS step by step) on stderr.
var group = os.Getenv("CALLBOX_BENCH")

func main() {
	if !slices.Contains([]string{"", "call", "network", "e2ee", "receive", "kiosk", "cluster", "arm64"}, group) {
		fmt.Fprintf(os.Stderr, "bench: CALLBOX_BENCH=%q: want call, network, e2ee, receive, kiosk, cluster, arm64, or nothing for every figure\n", group)
		os.Exit(2)
	}
	if group == "arm64" {
		if err := arm64Figure(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	// The lab needs root on the host: measure it before the re-exec into
	// the bench's own namespace (the re-executed bench is Inside).
	if !netns.Inside() && group == "" {
		if err := hostFigures(); err != nil { // lab.go, m2m.go, arm64.go
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	lkserver.RunMainInNamespace(func() int {
		if err := run(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		return 0
	})
}

func run() error {
	switch group {
	case "call":
		if err := callFigures(); err != nil {
			return err
		}
		return ringFigures() // ring.go
	case "network":
		return networkFigures()
	case "e2ee":
		return e2eeFigures()
	case "receive":
		return receiveFigures()
	case "kiosk":
		return kioskFigures()
	case "cluster":
		return clusterFigures()
	}
	ratio, err := encodeOverheadRatio()
	if err != nil {
		return err
	}
	fmt.Printf("encode_overhead_ratio: %.3f\n", ratio)
	if err := mjpegFigures(); err != nil { // mjpeg.go
		return err
	}
	if err := contentFigures(); err != nil { // content.go
		return err
	}
	if err := receiveFigures(); err != nil { // receive.go
		return err
	}
	if err := callFigures(); err != nil {
		return err
	}
	if err := ringFigures(); err != nil { // ring.go
		return err
	}
	if err := e2eeFigures(); err != nil { // e2ee.go
		return err
	}
	if err := kioskFigures(); err != nil { // kiosk.go
		return err
	}
	if err := clusterFigures(); err != nil { // cluster.go
		return err
	}
	return networkFigures()
}

// --- encode_overhead_ratio ---------------------------------------------------

const (
	benchWidth, benchHeight, benchFPS = 1280, 720, 30
	overheadFrames                    = 90 // per round
	overheadRounds                    = 7
)

// encodeOverheadRatio compares the CPU time of callboxd's send path, from a
// camera's YUYV frames to RTP packets, with the CPU time of x264 alone
// (the same encoder, the same settings) coding the same pictures already in
// I420. Rounds alternate so that both see the same machine; the median
// round's ratio is the figure.
func encodeOverheadRatio() (float64, error) {
	yuyv, i420, err := captureFrames(overheadFrames)
	if err != nil {
		return 0, err
	}
	settings := pipeline.VideoSettings{Width: benchWidth, Height: benchHeight, FPS: benchFPS,
		BitsPerSecond: 1_500_000, KeyframeInterval: 120}
	return medianCPURatio(overheadRounds,
		func() error { return sendPath(settings, yuyv) },
		func() error { return rawEncode(settings, i420) })
}

// medianCPURatio runs measured and baseline in turn, rounds times, so that
// both see the same machine, and returns the median round's ratio of
// their CPU times.
func medianCPURatio(rounds int, measured, baseline func() error) (float64, error) {
	var ratios []float64
	for range rounds {
		m, err := cpuTime(measured)
		if err != nil {
			return 0, err
		}
		b, err := cpuTime(baseline)
		if err != nil {
			return 0, err
		}
		ratios = append(ratios, float64(m)/float64(b))
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2], nil
}

// captureFrames makes test pattern pictures as a YUYV camera would hand
// them over, and the same pictures in I420.
func captureFrames(n int) (yuyv, i420 []camera.Frame, err error) {
	return captureFramesOf(benchWidth, benchHeight, n)
}

// captureFramesOf is captureFrames for pictures of w x h.
func captureFramesOf(w, h, n int) (yuyv, i420 []camera.Frame, err error) {
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	for range n {
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			return nil, nil, err
		}
		f.Data = slices.Clone(f.Data)
		i420 = append(i420, f)
		y := f
		y.Format.Pixel, y.Format.Stride = camera.PixelFormatYUYV, 0
		y.Data = toYUYV(f.Data, w, h)
		yuyv = append(yuyv, y)
	}
	return yuyv, i420, nil
}

func toYUYV(i420 []byte, w, h int) []byte {
	out := make([]byte, 0, 2*w*h)
	u, v := i420[w*h:], i420[w*h+w*h/4:]
	for y := range h {
		for x := 0; x < w; x += 2 {
			c := (y/2)*(w/2) + x/2
			out = append(out, i420[y*w+x], u[c], i420[y*w+x+1], v[c])
		}
	}
	return out
}

// replay is a camera that hands out recorded frames as fast as they are read.
type replay struct {
	frames []camera.Frame
	next   int
}

func (r *replay) Format() camera.Format { return r.frames[0].Format }
func (r *replay) Close() error          { return nil }
func (r *replay) ReadFrame(ctx context.Context) (camera.Frame, error) {
	if r.next == len(r.frames) {
		return camera.Frame{}, errEndOfReplay
	}
	f := r.frames[r.next]
	r.next++
	return f, nil
}

var errEndOfReplay = fmt.Errorf("end of replay")

// sendPath runs callboxd's send path over the frames, down to RTP packets.
func sendPath(s pipeline.VideoSettings, frames []camera.Frame) error {
	enc, err := pipeline.NewH264Encoder(s)
	if err != nil {
		return err
	}
	defer enc.Close()
	// The packetizer the LiveKit SDK's track uses for H.264.
	packetizer := rtp.NewPacketizer(1200, 96, 1, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
	err = pipeline.SendVideo(context.Background(), &replay{frames: frames}, enc, func(f media.EncodedFrame) error {
		packetizer.Packetize(f.Data, 90000/benchFPS)
		return nil
	})
	if errors.Is(err, errEndOfReplay) {
		return nil
	}
	return err
}

// rawEncode codes the I420 frames with x264 and nothing else.
func rawEncode(s pipeline.VideoSettings, frames []camera.Frame) error {
	enc, err := pipeline.NewH264Encoder(s)
	if err != nil {
		return err
	}
	defer enc.Close()
	for _, f := range frames {
		if _, err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime is the CPU time (user and system, all threads) fn takes.
func cpuTime(fn func() error) (time.Duration, error) {
	before := processCPU()
	err := fn()
	return processCPU() - before, err
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // fails only for an unknown who
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// --- the call figures ---------------------------------------------------------

const measureFor = 15 * time.Second

// serverAndDaemon starts a LiveKit server in the bench's namespace and
// finds callboxd, built as the tests build it.
func serverAndDaemon(ctx context.Context) (*lkserver.Server, string, error) {
	daemonPath, err := daemontest.Binary("github.com/callbox/callbox/cmd/callboxd")
	if err != nil {
		return nil, "", err
	}
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr})
	return srv, daemonPath, err
}

// boxDaemon is callboxd run with settings of the bench's own, its log
// kept, and its local API.
type boxDaemon struct {
	cmd *exec.Cmd
	log *daemontest.Log
	api provisioning.LocalClient
	dir string
}

// startBox runs callboxd (daemonPath) with cfg as its settings file.
func startBox(daemonPath string, cfg config.Config) (*boxDaemon, error) {
	dir, err := os.MkdirTemp("", "callbox-bench-box")
	if err != nil {
		return nil, err
	}
	settings, socket := filepath.Join(dir, "callbox.toml"), filepath.Join(dir, "control.sock")
	if err := config.Save(settings, cfg); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b := &boxDaemon{cmd: exec.Command(daemonPath, "-config", settings, "-control", socket), log: &daemontest.Log{},
		api: provisioning.LocalClient{Socket: socket}, dir: dir}
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return b, nil
}

func (b *boxDaemon) stop() {
	// It may have exited already; its exit status is no figure.
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	_ = b.cmd.Wait()
	os.RemoveAll(b.dir)
}

func callFigures() error {
	call.UseLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, daemonPath, err := serverAndDaemon(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()

	quality, err := newSendQuality(benchWidth, benchHeight)
	if err != nil {
		return err
	}
	v, err := viewer.Start(call.Options{URL: srv.URL, Room: "bench", Identity: "viewer",
		APIKey: srv.APIKey, APISecret: srv.APISecret}, quality.check)
	if err != nil {
		return err
	}
	defer v.Leave()
	daemon := exec.Command(daemonPath, "-url", srv.URL, "-room", "bench", "-identity", "box",
		"-api-key", srv.APIKey, "-api-secret", srv.APISecret, "-encryption", "none", "-log-level", cmp.Or(os.Getenv("CALLBOX_BENCH_DAEMON_LOG"), "warn"),
		"-width", strconv.Itoa(benchWidth), "-height", strconv.Itoa(benchHeight), "-fps", strconv.Itoa(benchFPS))
	daemon.Stderr = os.Stderr
	started := time.Now()
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		// It may have exited already; its exit status is no figure.
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
	}()
	if err := v.WaitPictures(ctx, 1); err != nil {
		return fmt.Errorf("first picture: %w", err)
	}
	first := v.Pictures()[0]
	fmt.Printf("start_to_first_frame_ms: %d ms\n", first.Decoded.Sub(started).Milliseconds())

	// Let the call settle (rate control, jitter buffers), then measure.
	time.Sleep(3 * time.Second)
	from := len(v.Pictures())
	quality.measuring.Store(true)
	time.Sleep(measureFor)
	quality.measuring.Store(false)
	var latencies []float64
	for _, p := range v.Pictures()[from:] {
		if p.Err == nil {
			latencies = append(latencies, float64(p.Decoded.Sub(p.Stamp.Time).Microseconds())/1000)
		}
	}
	if len(latencies) < int(measureFor.Seconds())*benchFPS/2 {
		return fmt.Errorf("only %d pictures with stamps in %v", len(latencies), measureFor)
	}
	slices.Sort(latencies)
	fmt.Printf("glass_to_glass_p50_ms: %.1f ms\n", latencies[len(latencies)/2])
	fmt.Printf("glass_to_glass_p95_ms: %.1f ms\n", latencies[len(latencies)*95/100])
	fmt.Printf("received_fps: %.1f fps\n", float64(len(latencies))/measureFor.Seconds())
	psnr, err := quality.mean()
	if err != nil {
		return err
	}
	fmt.Printf("send_psnr_db: %.1f dB\n", psnr)

	rss, err := memoryMB(daemon.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}
	fmt.Printf("rss_mb: %.1f MB\n", rss)
	// make builds callboxd with the lean FFmpeg of scripts/ffmpeg-lean.sh;
	// Debian's libavcodec maps some ninety libraries, 15 MB more.
	if maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", daemon.Process.Pid)); err == nil &&
		strings.Contains(string(maps), "/libavcodec.so") {
		fmt.Fprintln(os.Stderr, "bench: callboxd links Debian's libavcodec, not the lean FFmpeg: run `make bench`, not `go run`, for rss_mb")
	}
	// Resident memory of its own (heap, encoder and decoder buffers), without
	// the pages of the binary and the shared libraries it maps.
	anon, err := memoryMB(daemon.Process.Pid, "RssAnon")
	if err != nil {
		return err
	}
	fmt.Printf("rss_anon_mb: %.1f MB\n", anon)
	return nil
}

// memoryMB reads one of the process's memory figures from /proc, in MB:
// VmHWM, the most resident memory it has had, or RssAnon, its own
// resident memory now.
func memoryMB(pid int, field string) (float64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
