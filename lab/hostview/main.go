// Command lab-hostview is the host side of the lab's call scenarios. Next to
// the lab VM, inside the test's network namespace, it runs a real LiveKit
// server on the namespace's address, hands its address and keys to the
// guest over the control channel, and watches the room as a person would:
// it decodes what the guest's callboxd sends and checks it (vivid's colour
// bars at the right size and advancing, a tone at the right pitch). It
// never touches the guest's devices; the guest's scenario does that.
//
// Usage (run.sh starts it through lab/scenarios/NAME.host.sh):
//
//	lab-hostview prepare    outside the namespace: make sure the livekit-server binary is built
//	lab-hostview camera     vivid in YUYV, then NV12, at 1280x720
//	lab-hostview audio      a 1 kHz tone through snd-aloop
//	lab-hostview faults     vivid unbound and bound again; the server stopped and restarted
//	lab-hostview buttons    gpio-sim buttons: call, mute, hang up
//	lab-hostview keys       the same with a uinput keyboard's keys, through evdev
//	lab-hostview screen     a remote participant on the bochs display (QMP screendumps)
//	lab-hostview share      callboxd shares vivid's HDMI input: 720p, then 1080p, then the cable pulled
//	lab-hostview systemd    callboxd under lab-notifyd with the unit's watchdog and restarts ($LAB_UNIT)
//	lab-hostview deb        the Debian package on Debian arm64: setup over HTTPS, the call, upgrade, remove, purge
//
// It reads run.sh's environment: LAB_OUT, LAB_CONSOLE, LAB_CTL, LAB_HOST_IP,
// LAB_STARTED_NS and, for screen, LAB_QMP. On failure it writes the reason to
// $LAB_OUT/host-fail-reason, tells the guest "host-failed" and exits 1.
package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/viewer"
)

// room is where the guest's callboxd and the host's viewer meet.
const room = "lab"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: lab-hostview prepare|camera|audio|faults|buttons|keys|cec|screen|share|systemd|deb")
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)
	call.UseLogger(log.With("part", "livekit"))

	if os.Args[1] == "prepare" {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		path, err := lkserver.Binary(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lab-hostview:", err)
			os.Exit(1)
		}
		fmt.Println(path)
		return
	}

	scenarios := map[string]func(context.Context, *lab) error{
		"camera":  cameraScenario,
		"audio":   audioScenario,
		"faults":  faultsScenario,
		"buttons": buttonsScenario,
		"keys":    keysScenario,
		"cec":     cecScenario,
		"screen":  screenScenario,
		"share":   shareScenario,
		"systemd": systemdScenario,
		"deb":     debScenario,
	}
	scenario, ok := scenarios[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "lab-hostview: no scenario %q\n", os.Args[1])
		os.Exit(2)
	}
	l, err := newLab(log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab-hostview:", err)
		os.Exit(2)
	}
	// run.sh stops the host part when the VM ends; this bound is only for
	// a run by hand that forgets to.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	err = scenario(ctx, l)
	l.close()
	if err != nil {
		l.fail(err)
	}
	log.Info("host side done")
}

// --- camera -----------------------------------------------------------------

// videoWidth and videoHeight are what the guest's callboxd is set to send.
const videoWidth, videoHeight = 1280, 720

// advancing is how many successive pictures must be vivid's, each
// different from the one before: at a few frames per second under TCG, a
// few seconds of video.
const advancing = 12

func cameraScenario(ctx context.Context, l *lab) error {
	if err := l.startCall(ctx); err != nil {
		return err
	}
	for i, format := range []string{"YUYV", "NV12"} {
		identity := "callbox-" + strings.ToLower(format)
		since := time.Now()
		got, err := l.view.waitAdvancing(ctx, identity, since, advancing, 240*time.Second)
		if err != nil {
			return fmt.Errorf("vivid in %s: %w", format, err)
		}
		first, last := got[0], got[len(got)-1]
		if i == 0 {
			boot := first.Decoded.Sub(l.started).Seconds()
			slog.Info("first picture from the guest", "after_s", boot)
			// The figure make bench reports; see internal/bench.
			fmt.Printf("lab_boot_to_in_call_s: %.1f s\n", boot)
			_ = os.WriteFile(filepath.Join(l.out, "lab_boot_to_in_call_s"), fmt.Appendf(nil, "%.1f\n", boot), 0o644)
		}
		fps := float64(len(got)-1) / last.Decoded.Sub(first.Decoded).Seconds()
		slog.Info("vivid's pictures arrive, advancing", "format", format, "pictures", len(got),
			"size", fmt.Sprintf("%dx%d", last.Width, last.Height), "fps", fmt.Sprintf("%.1f", fps))
		if err := l.view.SavePNG(identity, filepath.Join(l.out, "camera-"+format+".png")); err != nil {
			slog.Warn("no picture saved", "err", err)
		}
		if err := l.tell("seen " + format); err != nil {
			return err
		}
	}
	return l.waitEvent(ctx, "camera-done", 60*time.Second)
}

// --- audio ------------------------------------------------------------------

// toneHz is what the guest plays into the loopback (lab/tone -hz).
const toneHz = 1000

func audioScenario(ctx context.Context, l *lab) error {
	if err := l.startCall(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	hz, err := l.view.WaitTone(ctx, "callbox-audio", toneHz, 5)
	if err != nil {
		return err
	}
	slog.Info("the guest's tone arrived", "want_hz", toneHz, "got_hz", fmt.Sprintf("%.1f", hz))
	return l.tell("heard")
}

// --- faults -----------------------------------------------------------------

func faultsScenario(ctx context.Context, l *lab) error {
	const identity = "callbox"
	if err := l.startCall(ctx); err != nil {
		return err
	}
	if _, err := l.view.waitAdvancing(ctx, identity, time.Time{}, advancing, 240*time.Second); err != nil {
		return fmt.Errorf("before any fault: %w", err)
	}

	// The camera goes away while streaming.
	slog.Info("unplugging the camera (vivid unbound in the guest)")
	if err := l.tell("unplug"); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "camera-gone", 60*time.Second); err != nil {
		return err
	}
	// What was in flight has arrived within a second; after that, nothing
	// may come from a camera that is not there.
	gone := time.Now().Add(time.Second)
	// Unplugged for a few seconds, as a person pulling a cable would.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(4 * time.Second):
	}
	if err := l.tell("replug"); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "camera-back", 60*time.Second); err != nil {
		return err
	}
	back := l.view.since(identity, gone)
	if n := countBefore(back, l.lastEventSeen); n > 0 {
		return fmt.Errorf("%d pictures arrived while vivid was unbound: the unplug did not reach callboxd", n)
	}
	got, err := l.view.waitAdvancing(ctx, identity, time.Now(), advancing, 180*time.Second)
	if err != nil {
		return fmt.Errorf("after vivid was bound again: %w", err)
	}
	slog.Info("pictures again after the camera came back", "after_s", got[0].Decoded.Sub(l.lastEventSeen).Seconds())

	// The call server goes away and comes back.
	slog.Info("stopping the LiveKit server")
	l.view.Leave()
	if err := l.srv.Stop(); err != nil {
		return fmt.Errorf("stop the LiveKit server: %w", err)
	}
	// Down long enough for callboxd to see the call drop (its signalling
	// and media time out) rather than riding over a blip.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(8 * time.Second):
	}
	if err := l.srv.Restart(ctx); err != nil {
		return fmt.Errorf("restart the LiveKit server: %w", err)
	}
	restarted := time.Now()
	slog.Info("LiveKit server restarted")
	if err := l.joinView(); err != nil {
		return err
	}
	got, err = l.view.waitAdvancing(ctx, identity, restarted, advancing, 240*time.Second)
	if err != nil {
		return fmt.Errorf("after the LiveKit server restarted: %w", err)
	}
	slog.Info("pictures again after the server restart", "after_s", got[0].Decoded.Sub(restarted).Seconds())
	return l.tell("done")
}

// --- buttons ----------------------------------------------------------------

// buttonsScenario: the gpio-sim lines; see controlsScenario (keys.go).
func buttonsScenario(ctx context.Context, l *lab) error {
	return controlsScenario(ctx, l, "callbox-buttons", "button")
}

func countBefore(pics []viewer.Picture, t time.Time) int {
	n := 0
	for _, p := range pics {
		if p.Decoded.Before(t) {
			n++
		}
	}
	return n
}

// --- pictures and sound -------------------------------------------------------

// checkColourBars says whether a picture is vivid's default test pattern,
// 75% colour bars (white, yellow, cyan, green, magenta, red, blue, black):
// along the middle row, eight bars whose brightness falls from left to right.
func checkColourBars(y []byte, stride, width, height int) error {
	const bars = 8
	var luma [bars]float64
	row := height / 2
	for i := range bars {
		cx := (2*i + 1) * width / (2 * bars)
		sum, n := 0, 0
		for dy := -4; dy <= 4; dy++ {
			for dx := -8; dx <= 8; dx++ {
				sum += int(y[(row+dy)*stride+cx+dx])
				n++
			}
		}
		luma[i] = float64(sum) / float64(n)
	}
	for i := range bars - 1 {
		if luma[i] < luma[i+1]+8 {
			return fmt.Errorf("not vivid's colour bars: brightness of the bars along the middle row %.0f, want falling from left to right", luma)
		}
	}
	if luma[0]-luma[bars-1] < 100 {
		return fmt.Errorf("not vivid's colour bars: brightness %.0f spans too little from white to black", luma)
	}
	return nil
}

// changedPixels counts the pixels of the pictures' top sixth (where vivid
// writes the time and frame count) that differ clearly between a and b, of
// the same size. Coding noise in a still region stays far below the
// threshold.
func changedPixels(a, b *image.YCbCr) int {
	n := 0
	for row := range a.Rect.Dy() / 6 {
		for x := range a.Rect.Dx() {
			d := int(a.Y[row*a.YStride+x]) - int(b.Y[row*b.YStride+x])
			if d > 40 || d < -40 {
				n++
			}
		}
	}
	return n
}

// minChanged is how many pixels of the text must change for a picture to
// count as the next one: one digit of vivid's 8x16 font changes more.
const minChanged = 20

// --- the lab around the scenario ---------------------------------------------

type lab struct {
	out, console, ctl, hostIP string
	started                   time.Time // when run.sh started the VM
	log                       *slog.Logger
	srv                       *lkserver.Server
	view                      *view
	ctlConn                   *ctlConn
	// lastEventSeen is when waitEvent last saw its event on the console.
	lastEventSeen time.Time
}

func newLab(log *slog.Logger) (*lab, error) {
	l := &lab{log: log, started: time.Now()}
	for name, dst := range map[string]*string{
		"LAB_OUT": &l.out, "LAB_CONSOLE": &l.console, "LAB_CTL": &l.ctl, "LAB_HOST_IP": &l.hostIP,
	} {
		*dst = os.Getenv(name)
		if *dst == "" {
			return nil, fmt.Errorf("%s is not set: run through lab/run.sh", name)
		}
	}
	if ns := os.Getenv("LAB_STARTED_NS"); ns != "" {
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("LAB_STARTED_NS %q: %w", ns, err)
		}
		l.started = time.Unix(0, n)
	}
	l.ctlConn = &ctlConn{path: l.ctl}
	return l, nil
}

// startCall starts the LiveKit server and the viewer, and gives the guest
// the server's address and keys once the guest asks.
func (l *lab) startCall(ctx context.Context) error {
	if err := l.startServer(ctx); err != nil {
		return err
	}
	if err := l.joinView(); err != nil {
		return err
	}
	// Only once the guest listens: what the serial line gets before the
	// guest opens it is lost.
	if err := l.waitEvent(ctx, "want-call-server", 120*time.Second); err != nil {
		return err
	}
	return l.tell(fmt.Sprintf("call-server %s %s %s", l.srv.URL, l.srv.APIKey, l.srv.APISecret))
}

// startServer starts the LiveKit server.
func (l *lab) startServer(ctx context.Context) error {
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: l.hostIP, LogFile: filepath.Join(l.out, "livekit-server.log")})
	if err != nil {
		return err
	}
	l.srv = srv
	l.log.Info("LiveKit server up", "url", srv.URL)
	return nil
}

// joinView joins the room as the viewer, with the server's keys: the
// boxes of the scenarios that start callboxd themselves send unencrypted
// (callboxd_config's encryption = "none").
func (l *lab) joinView() error {
	v, err := startView(call.Options{URL: l.srv.URL, Room: room, Identity: "lab-viewer",
		APIKey: l.srv.APIKey, APISecret: l.srv.APISecret})
	if err != nil {
		return fmt.Errorf("viewer: %w", err)
	}
	l.view = v
	return nil
}

func (l *lab) close() {
	if l.view != nil {
		l.view.Leave()
	}
	if l.srv != nil {
		_ = l.srv.Close()
	}
	l.ctlConn.close()
}

// fail records why the host side failed, where run.sh reports it, lets a
// waiting guest give up at once, and exits.
func (l *lab) fail(err error) {
	reason := strings.ReplaceAll(err.Error(), "\n", "; ")
	_ = os.WriteFile(filepath.Join(l.out, "host-fail-reason"), []byte(reason+"\n"), 0o644)
	l.log.Error("FAIL", "err", reason)
	_ = l.tell("host-failed")
	l.ctlConn.close()
	os.Exit(1)
}

func (l *lab) tell(line string) error {
	if err := l.ctlConn.writeLine(line); err != nil {
		return err
	}
	l.log.Info("told the guest", "line", strings.SplitN(line, " ", 2)[0])
	return nil
}

// ask tells the guest line and returns the value of its answer "answer
// VALUE" on the control channel, which the logs never show.
func (l *lab) ask(line, answer string, timeout time.Duration) (string, error) {
	if err := l.tell(line); err != nil {
		return "", err
	}
	value, err := l.ctlConn.readAnswer(answer, timeout)
	if err != nil {
		return "", err
	}
	l.log.Info("the guest answered", "answer", answer)
	return value, nil
}

// errGuestEnded: the guest printed its verdict, so no event will come.
var errGuestEnded = errors.New("the guest's scenario ended")
