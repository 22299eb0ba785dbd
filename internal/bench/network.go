package main

// The network figures (CALLBOX_BENCH=network): the box and Chromium, one
// after the other, each publishing 720p30 H.264 and a 440 Hz tone from its
// own namespace behind an emulated network (internal/netem) to the same
// LiveKit server, under each profile; a Go subscriber on a perfect link
// (internal/viewer) decodes what arrives. For each profile, the box's
// figures have no suffix and Chromium's end in _chromium:
//
//   - freeze_ms_per_min_<profile>: every gap over 200 ms between two
//     decoded pictures (or the run's start or end) counts whole;
//   - received_fps_<profile> and received_resolution_<profile>: decoded
//     pictures per second, and their most common size;
//   - audio_concealed_pct_<profile>: 10 ms frames of sound the subscriber
//     could not play from a packet, or from the in-band FEC of the next,
//     played as a simple 80 ms jitter buffer does (listen);
//   - uplink_kbps_<profile>: what the sender sent into its network;
//   - bitrate_converge_s (thin): from the cap until every second after
//     carries at most the cap with under 2 % dropped;
//   - recovery_s (drop): from the network's return to the next picture;
//   - freeze_ratio_<profile> and audio_concealed_ratio_<profile>:
//     (box + 1) / (Chromium + 1).

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netem"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/internal/viewer"
)

// measureNetwork is how long each profile is measured, after the sender
// has settled on a clean network. drop: 5 s, the 10 s blackout, 10 s
// after; wifi: the whole trace.
var measureNetwork = map[string]time.Duration{
	"loss3": 20 * time.Second, "burst": 20 * time.Second, "jitter": 20 * time.Second,
	"thin": 30 * time.Second, "drop": netem.DropAt + netem.DropFor + 10*time.Second, "wifi": 40 * time.Second,
}

const (
	settle = 5 * time.Second
	// freezeGap is the longest gap between pictures that is not a freeze.
	freezeGap = 200 * time.Millisecond
	// The senders' video: what the box sends by default.
	netBitrate = 1_500_000
)

// netRounds is how many times each sender is measured under each profile,
// the senders taking turns: the figures are the rounds' mean, for a
// machine whose load moves a freeze or two from run to run
// (CALLBOX_BENCH_ROUNDS; 1 while working on one thing).
var netRounds = cmp.Or(atoiEnv("CALLBOX_BENCH_ROUNDS"), 2)

func atoiEnv(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return max(n, 0)
}

// senders are who publishes, in the order they run for each profile.
var senders = []string{"box", "chromium"}

// sendersRun are the senders CALLBOX_BENCH_SENDERS names (e.g. "box" while
// working on the box alone), all of them when it is unset.
func sendersRun() []string {
	only := os.Getenv("CALLBOX_BENCH_SENDERS")
	if only == "" {
		return senders
	}
	return slices.DeleteFunc(slices.Clone(senders), func(s string) bool { return !slices.Contains(strings.Split(only, ","), s) })
}

func networkFigures() error {
	call.UseLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	b, err := newNetBench(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	only := os.Getenv("CALLBOX_BENCH_PROFILES") // e.g. "thin,drop": a few profiles while working on them
	for _, profile := range netem.Profiles() {
		if only != "" && !slices.Contains(strings.Split(only, ","), profile.Name) {
			continue
		}
		rounds := map[string][]netResult{}
		for round := 1; round <= netRounds; round++ {
			for _, sender := range sendersRun() {
				r, err := b.measure(ctx, profile, sender)
				if err != nil {
					return fmt.Errorf("%s under %s: %w", sender, profile.Name, err)
				}
				fmt.Fprintf(os.Stderr, "bench: %s under %s, round %d: %+v\n", sender, profile.Name, round, r)
				rounds[sender] = append(rounds[sender], r)
			}
		}
		results := map[string]netResult{}
		for _, sender := range senders {
			if len(rounds[sender]) > 0 {
				results[sender] = meanResult(rounds[sender])
				results[sender].print(profile.Name, sender)
			}
		}
		box, okBox := results["box"]
		chromium, okChromium := results["chromium"]
		if !okBox || !okChromium {
			continue
		}
		fmt.Printf("freeze_ratio_%s: %.2f\n", profile.Name, (box.freezeMsPerMin+1)/(chromium.freezeMsPerMin+1))
		fmt.Printf("audio_concealed_ratio_%s: %.2f\n", profile.Name, (box.concealedPct+1)/(chromium.concealedPct+1))
	}
	fmt.Fprintf(os.Stderr, "bench: the network figures took %v\n", time.Since(started).Round(time.Second))
	return nil
}

// netBench is where the box and Chromium take turns: the LiveKit server
// in the bench's namespace, a peer namespace behind an emulated network,
// callboxd, and Chromium's fake camera and microphone files.
type netBench struct {
	srv                *lkserver.Server
	peer               *netem.Peer
	daemon, video, wav string
	page               string
	runs               int
	close              func()
}

func newNetBench(ctx context.Context) (b *netBench, err error) {
	b = &netBench{}
	var undo []func()
	b.close = func() {
		for _, f := range slices.Backward(undo) {
			f()
		}
	}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if b.daemon, err = daemontest.Binary("github.com/callbox/callbox/cmd/callboxd"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "callbox-bench-net-")
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { os.RemoveAll(dir) })
	b.video, b.wav = filepath.Join(dir, "pattern.y4m"), filepath.Join(dir, "tone.wav")
	if err := writeY4M(ctx, b.video, benchWidth, benchHeight, benchFPS, 5*benchFPS); err != nil {
		return nil, err
	}
	if err := writeToneWAV(ctx, b.wav, 440, 10*time.Second); err != nil {
		return nil, err
	}
	if b.srv, err = lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr}); err != nil {
		return nil, err
	}
	undo = append(undo, func() { b.srv.Close() })
	var stopPage func()
	if b.page, stopPage, err = servePage(); err != nil {
		return nil, err
	}
	undo = append(undo, stopPage)
	if b.peer, err = netem.NewPeer(1, netem.Profile{}); err != nil {
		return nil, err
	}
	undo = append(undo, func() { b.peer.Close() })
	return b, nil
}

// netResult is what one sender's run under one profile measured.
type netResult struct {
	freezeMsPerMin, fps, concealedPct, uplinkKbps float64
	resolution                                    string
	converge, recovery                            string // "" where the profile has none
}

func (r netResult) print(profile, sender string) {
	suffix := ""
	if sender != "box" {
		suffix = "_" + sender
	}
	fmt.Printf("freeze_ms_per_min_%s%s: %.0f ms\n", profile, suffix, r.freezeMsPerMin)
	fmt.Printf("received_fps_%s%s: %.1f fps\n", profile, suffix, r.fps)
	fmt.Printf("received_resolution_%s%s: %s\n", profile, suffix, r.resolution)
	fmt.Printf("audio_concealed_pct_%s%s: %.1f %%\n", profile, suffix, r.concealedPct)
	fmt.Printf("uplink_kbps_%s%s: %.0f kbit/s\n", profile, suffix, r.uplinkKbps)
	if r.converge != "" {
		fmt.Printf("bitrate_converge_s%s: %s s\n", suffix, r.converge)
	}
	if r.recovery != "" {
		fmt.Printf("recovery_s%s: %s s\n", suffix, r.recovery)
	}
}

// meanResult is the rounds' mean of each figure; the size most rounds
// saw; and the worst rounds' convergence and recovery.
func meanResult(rounds []netResult) netResult {
	var m netResult
	sizes := map[string]int{}
	for _, r := range rounds {
		m.freezeMsPerMin += r.freezeMsPerMin / float64(len(rounds))
		m.fps += r.fps / float64(len(rounds))
		m.concealedPct += r.concealedPct / float64(len(rounds))
		m.uplinkKbps += r.uplinkKbps / float64(len(rounds))
		sizes[r.resolution]++
		if sizes[r.resolution] > sizes[m.resolution] {
			m.resolution = r.resolution
		}
		m.converge = worseSeconds(m.converge, r.converge)
		m.recovery = worseSeconds(m.recovery, r.recovery)
	}
	return m
}

// worseSeconds is the longer of two times as the figures write them
// ("2", "0.31", ">29" for never within the run; "" for none).
func worseSeconds(a, b string) string {
	seconds := func(s string) float64 {
		if s == "" {
			return -1
		}
		v, _ := strconv.ParseFloat(strings.TrimPrefix(s, ">"), 64)
		if strings.HasPrefix(s, ">") {
			v += 1e6 // never is longer than any time
		}
		return v
	}
	if seconds(b) > seconds(a) {
		return b
	}
	return a
}

// measure runs sender on a clean network until it has settled, then
// under profile for its measuring time, and works out the figures.
func (b *netBench) measure(ctx context.Context, profile netem.Profile, sender string) (netResult, error) {
	v, _, stop, err := b.watch(ctx, "net-"+profile.Name, sender)
	if err != nil {
		return netResult{}, err
	}
	defer stop()
	length := measureNetwork[profile.Name]
	b.peer.Set(profile)
	from := time.Now()
	time.Sleep(length)
	to := time.Now()
	up, _ := b.peer.Stats()

	var pics []viewer.Picture
	for _, p := range v.Pictures() {
		if p.From == sender && !p.Decoded.Before(from) && !p.Decoded.After(to) {
			pics = append(pics, p)
		}
	}
	packets := v.AudioPackets(sender)
	r := netResult{
		freezeMsPerMin: freezeMsPerMin(pics, from, to),
		fps:            float64(len(pics)) / to.Sub(from).Seconds(),
		resolution:     commonSize(pics),
		concealedPct:   audioConcealedPct(packets, from, to),
		uplinkKbps:     float64(up.Bytes*8) / to.Sub(from).Seconds() / 1000,
	}
	if os.Getenv("CALLBOX_BENCH_TIMELINE") != "" {
		printTimeline(sender, profile.Name, pics, up.Seconds, from, to)
	}
	switch profile.Name {
	case "thin":
		r.converge = convergeSeconds(up.Seconds, netem.ThinRate, 0.02)
	case "drop":
		back := from.Add(profile.Up.Over())
		r.recovery = fmt.Sprintf(">%.0f", to.Sub(back).Seconds())
		for _, p := range pics {
			if p.Decoded.After(back) {
				r.recovery = fmt.Sprintf("%.2f", p.Decoded.Sub(back).Seconds())
				break
			}
		}
	}
	return r, nil
}

// watch starts sender on a clean network in a room of its own, with the
// viewer decoding it, and returns once it has settled; stop ends both.
func (b *netBench) watch(ctx context.Context, run, sender string) (v *viewer.Viewer, pid int, stop func(), err error) {
	b.runs++
	room := fmt.Sprintf("%s-%d-%s", run, b.runs, sender)
	b.peer.Set(netem.Profile{Name: "clean"})
	v, err = viewer.Start(call.Options{URL: b.srv.URL, Room: room, Identity: "viewer",
		APIKey: b.srv.APIKey, APISecret: b.srv.APISecret}, viewer.ReadStamp)
	if err != nil {
		return nil, 0, nil, err
	}
	stopSender, pid, err := b.start(room, sender)
	if err != nil {
		v.Leave()
		return nil, 0, nil, err
	}
	stop = func() {
		stopSender()
		v.Leave()
	}
	firstCtx, cancelFirst := context.WithTimeout(ctx, time.Minute)
	err = v.WaitPictures(firstCtx, 1)
	cancelFirst()
	if err != nil {
		stop()
		return nil, 0, nil, fmt.Errorf("first picture: %w", err)
	}
	time.Sleep(settle)
	return v, pid, stop, nil
}

// start starts sender in the peer's namespace, publishing into room, and
// returns how to stop it and its process (callboxd, or node driving
// Chromium).
func (b *netBench) start(room, sender string) (stop func(), pid int, err error) {
	if sender == "box" {
		return b.startBox(room)
	}
	return b.startChromium(room)
}

func (b *netBench) startBox(room string) (func(), int, error) {
	dir, err := os.MkdirTemp("", "callbox-bench-box-")
	if err != nil {
		return nil, 0, err
	}
	cfg := filepath.Join(dir, "callbox.toml")
	err = os.WriteFile(cfg, fmt.Appendf(nil, `[call]
url = %q
room = %q
identity = "box"
api_key = %q
api_secret = %q
encryption = "none" # the subscriber has no keys; the figures are the network's

[video]
camera = "testpattern"
width = %d
height = %d
fps = %d
bitrate_kbps = %d

[display]
output = "none"

[speaker]
device = "none"

[log]
level = %q
`, b.srv.URL, room, b.srv.APIKey, b.srv.APISecret, benchWidth, benchHeight, benchFPS, netBitrate/1000,
		cmp.Or(os.Getenv("CALLBOX_BENCH_DAEMON_LOG"), "warn")), 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return nil, 0, err
	}
	daemon := b.peer.Command(b.daemon, "-config", cfg)
	daemon.Stderr = os.Stderr
	if err := daemon.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, 0, err
	}
	return func() {
		// It may have exited already; its exit status is no figure.
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
		os.RemoveAll(dir)
	}, daemon.Process.Pid, nil
}

func (b *netBench) startChromium(room string) (func(), int, error) {
	token, err := b.srv.Token(room, "chromium")
	if err != nil {
		return nil, 0, err
	}
	node := b.peer.Command("node", "web/guest/interoptest/publish.mjs")
	node.Env = append(os.Environ(), "PAGE="+b.page, "LIVEKIT_URL="+b.srv.URL, "TOKEN="+token,
		fmt.Sprintf("MAX_BITRATE=%d", netBitrate), fmt.Sprintf("WIDTH=%d", benchWidth),
		fmt.Sprintf("HEIGHT=%d", benchHeight), fmt.Sprintf("FPS=%d", benchFPS),
		"VIDEO="+b.video, "AUDIO="+b.wav)
	node.Stderr = os.Stderr
	stdin, err := node.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	stdout, err := node.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	if err := node.Start(); err != nil {
		return nil, 0, fmt.Errorf("chromium (node web/guest/interoptest/publish.mjs; run make web): %w", err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "published" {
		err := fmt.Errorf("chromium did not publish: %q", lines.Text())
		stdin.Close()
		if exitErr := node.Wait(); exitErr != nil {
			err = fmt.Errorf("%w (node: %w)", err, exitErr)
		}
		return nil, 0, err
	}
	return func() {
		stdin.Close() // the harness leaves, and says what Chromium sent
		if lines.Scan() && os.Getenv("CALLBOX_BENCH_CHROMIUM_STATS") != "" {
			fmt.Fprintln(os.Stderr, "chromium sent:", lines.Text())
		}
		_, _ = io.Copy(io.Discard, stdout) // until node exits; the figures are taken already
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = node.Wait() // its exit status is no figure
		}()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = node.Process.Kill() // it may have exited since
			<-done
		}
	}, node.Process.Pid, nil
}

// freezeMsPerMin sums every gap over freezeGap between pictures decoded
// from from to to (the window's edges count as pictures), per minute.
func freezeMsPerMin(pics []viewer.Picture, from, to time.Time) float64 {
	var frozen time.Duration
	prev := from
	for _, p := range append(pics, viewer.Picture{Decoded: to}) {
		if gap := p.Decoded.Sub(prev); gap > freezeGap {
			frozen += gap
		}
		prev = p.Decoded
	}
	return float64(frozen.Milliseconds()) / to.Sub(from).Minutes()
}

// printTimeline tells (on stderr) when each freeze started and how long
// it lasted, when the picture's size changed, and what each second of
// the uplink carried and dropped: CALLBOX_BENCH_TIMELINE=1, to see what
// a figure is made of.
func printTimeline(sender, profile string, pics []viewer.Picture, seconds []netem.Second, from, to time.Time) {
	prev, size := from, ""
	for _, p := range append(pics, viewer.Picture{Decoded: to}) {
		if gap := p.Decoded.Sub(prev); gap > freezeGap {
			fmt.Fprintf(os.Stderr, "%s %s: at %.2f s a freeze of %.2f s\n", sender, profile, prev.Sub(from).Seconds(), gap.Seconds())
		}
		if s := fmt.Sprintf("%dx%d", p.Width, p.Height); p.Width > 0 && s != size {
			fmt.Fprintf(os.Stderr, "%s %s: at %.2f s pictures of %s\n", sender, profile, p.Decoded.Sub(from).Seconds(), s)
			size = s
		}
		prev = p.Decoded
	}
	for i, s := range seconds {
		fmt.Fprintf(os.Stderr, "%s %s: second %d up %d kbit/s, %d of %d packets dropped\n", sender, profile, i, s.Bytes*8/1000, s.Dropped, s.Packets)
	}
}

// commonSize is the picture size most pictures had.
func commonSize(pics []viewer.Picture) string {
	count := map[string]int{}
	for _, p := range pics {
		count[fmt.Sprintf("%dx%d", p.Width, p.Height)]++
	}
	if len(count) == 0 {
		return "none"
	}
	sizes := slices.Collect(maps.Keys(count))
	slices.SortFunc(sizes, func(a, b string) int { return cmp.Or(count[b]-count[a], strings.Compare(a, b)) })
	return sizes[0]
}

// audioConcealedPct is the share of the 10 ms frames of sound due from
// from to to that a listener could not play from a packet (listen).
func audioConcealedPct(packets []viewer.AudioPacket, from, to time.Time) float64 {
	due := int(to.Sub(from) / audioFrame)
	if due <= 0 {
		return 0
	}
	played := map[int]bool{} // frames from the window's start
	for _, stream := range splitStreams(packets) {
		listen(stream, from, to, played)
	}
	return 100 * float64(due-len(played)) / float64(due)
}

const (
	audioFrame = 10 * time.Millisecond
	// listenTarget is how much sound the listener holds before playing
	// it, at the start and after running dry: 80 ms, enough for the
	// jitter profile's ±30 ms.
	listenTarget = 80 * time.Millisecond
	// With more than listenTarget+listenFlush held, it skips ahead.
	listenFlush = 400 * time.Millisecond
)

// listen plays one stream of packets as a simple jitter buffer would, 10
// ms at a time in real time, and marks in played (by frame since from)
// each frame in the window it played from a packet that had arrived: the
// packet's own, or its copy in the next packet's in-band FEC when it was
// lost. A frame whose packet is missing while later ones are there is
// lost and skipped; with nothing later there, the listener waits (the
// sound stops, and plays on later: a sender whose clock runs slow, or a
// path whose delay grows, costs frames too); holding too much, it skips
// ahead.
func listen(stream []streamPacket, from, to time.Time, played map[int]bool) {
	byFrame := map[time.Duration]streamPacket{} // each packet under each of its frames' media times
	for _, p := range stream {
		for t := time.Duration(0); t < p.Duration; t += audioFrame {
			byFrame[p.media+t] = p
		}
	}
	arrived := func(p streamPacket, now time.Time) bool { return !p.Arrived.After(now) }
	byArrival := slices.Clone(stream)
	slices.SortStableFunc(byArrival, func(a, b streamPacket) int { return a.Arrived.Compare(b.Arrived) })
	next, newest := 0, time.Duration(-1) // the end, in media time, of what has arrived
	pos := stream[0].media               // the media time to play next
	for now := byArrival[0].Arrived.Add(listenTarget); now.Before(to); now = now.Add(audioFrame) {
		for ; next < len(byArrival) && arrived(byArrival[next], now); next++ {
			newest = max(newest, byArrival[next].media+byArrival[next].Duration)
		}
		if newest-pos > listenTarget+listenFlush {
			pos = (newest - listenTarget) / audioFrame * audioFrame
		}
		frame := int(now.Sub(from) / audioFrame)
		p, ok := byFrame[pos]
		switch {
		case ok && arrived(p, now):
			if frame >= 0 {
				played[frame] = true
			}
			pos += audioFrame
		case newest > pos+audioFrame: // lost, or too late: skip it
			if after, ok := byFrame[pos+2*audioFrame]; frame >= 0 && ok && after.FEC && arrived(after, now) {
				played[frame] = true
			}
			pos += audioFrame
		default: // ran dry: wait for more
		}
	}
}

type streamPacket struct {
	viewer.AudioPacket
	media time.Duration // from the stream's first packet, by RTP time
}

// splitStreams cuts the packets where the RTP timestamps jump by more
// than a minute (or back): a new stream.
func splitStreams(packets []viewer.AudioPacket) [][]streamPacket {
	var streams [][]streamPacket
	var first, last uint32
	for i, p := range packets {
		if d := int32(p.Timestamp - last); i == 0 || d < -48000*60 || d > 48000*60 {
			streams = append(streams, nil)
			first = p.Timestamp
		}
		last = p.Timestamp
		media := time.Duration(int32(p.Timestamp-first)) * time.Second / 48000
		streams[len(streams)-1] = append(streams[len(streams)-1], streamPacket{p, media})
	}
	return streams
}

// convergeSeconds is when, from the cap's start, every whole second
// after has carried at most rate bits with less than maxLoss of its
// packets dropped; ">N" when the last second still did not.
func convergeSeconds(seconds []netem.Second, rate int, maxLoss float64) string {
	last := len(seconds) - 1 // the last second is cut short by the run's end
	since := 0
	for i := range last {
		s := seconds[i]
		if s.Bytes*8 > rate || float64(s.Dropped) > maxLoss*float64(s.Packets) {
			since = i + 1
		}
	}
	if since >= last {
		return fmt.Sprintf(">%d", last)
	}
	return fmt.Sprintf("%d", since)
}

// writeY4M writes frames of the test pattern (its stamps readable, their
// times those of the writing) as a y4m file for Chromium's fake camera,
// which plays it in a loop.
func writeY4M(ctx context.Context, path string, w, h, fps, frames int) error {
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(out, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", w, h, fps)
	for range frames {
		fr, err := src.ReadFrame(ctx)
		if err != nil {
			f.Close()
			return err
		}
		// bufio keeps a failed write's error: Flush below returns it.
		_, _ = out.WriteString("FRAME\n")
		_, _ = out.Write(fr.Data[:w*h*3/2])
	}
	if err := out.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeToneWAV writes a 48 kHz mono tone for Chromium's fake microphone,
// which plays it in a loop: a whole number of cycles, so the loop is seamless.
func writeToneWAV(ctx context.Context, path string, hz float64, d time.Duration) error {
	tone, err := audio.NewTone(audio.ToneOptions{Frequency: hz, Amplitude: 0.5, Unpaced: true})
	if err != nil {
		return err
	}
	defer tone.Close()
	pcm := make([]int16, int(d.Seconds()*audio.SampleRate))
	if err := tone.Read(ctx, pcm); err != nil {
		return err
	}
	data := len(pcm) * 2
	var hdr [44]byte
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+data))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1) // PCM
	binary.LittleEndian.PutUint16(hdr[22:], 1) // mono
	binary.LittleEndian.PutUint32(hdr[24:], audio.SampleRate)
	binary.LittleEndian.PutUint32(hdr[28:], audio.SampleRate*2)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(data))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(hdr[:]); err != nil {
		f.Close()
		return err
	}
	if err := binary.Write(f, binary.LittleEndian, pcm); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// servePage serves an empty page on the namespace's address: Chromium's
// origin, which it is told to treat as secure (getUserMedia needs one).
// stop ends it and waits for its server.
func servePage() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", netns.Addr+":0")
	if err != nil {
		return "", nil, err
	}
	page := &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "<!doctype html><title>bench</title>")
		})}
	served := make(chan struct{})
	go func() {
		defer close(served)
		// http.ErrServerClosed once stop closes it; a page that did not
		// load is Chromium's "did not publish".
		_ = page.Serve(ln)
	}()
	stop = func() {
		page.Close()
		<-served
	}
	return "http://" + ln.Addr().String() + "/", stop, nil
}
