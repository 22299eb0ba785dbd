package main

// These tests run the real callboxd binary against a real LiveKit server,
// inside a private network namespace (see internal/netns), and watch the
// call with a second participant that decodes what arrives.

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/internal/viewer"
)

func TestMain(m *testing.M) {
	call.UseLogger(slog.Default()) // the viewer's SDK: warnings only
	lkserver.RunInNamespace(m)
}

func startServer(t *testing.T) *lkserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// runningDaemon is a callboxd process and what it said.
type runningDaemon struct {
	cmd    *exec.Cmd
	log    daemontest.Log
	exited chan struct{} // closed when the process has ended
	err    error         // its exit status, once exited is closed
}

func (d *runningDaemon) output() string { return d.log.String() }

// waitLog waits until the daemon's log contains text.
func (d *runningDaemon) waitLog(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	var watching sync.WaitGroup
	defer watching.Wait()
	defer cancel()
	watching.Go(func() {
		select {
		case <-d.exited:
			cancel()
		case <-ctx.Done():
		}
	})
	if d.log.Match(ctx, regexp.MustCompile(regexp.QuoteMeta(text))) != nil {
		return
	}
	select {
	case <-d.exited:
		t.Fatalf("callboxd exited (%v) before saying %q:\n%s", d.err, text, d.output())
	default:
		t.Fatalf("callboxd did not say %q within %v:\n%s", text, timeout, d.output())
	}
}

func startDaemon(t *testing.T, args ...string) *runningDaemon {
	t.Helper()
	return startDaemonCmd(t, exec.Command(daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd"), args...))
}

// startDaemonCmd is startDaemon for a command made elsewhere: in a peer
// namespace (netns.Peer.Command), with its own environment.
func startDaemonCmd(t *testing.T, cmd *exec.Cmd) *runningDaemon {
	t.Helper()
	d := &runningDaemon{exited: make(chan struct{}), cmd: cmd}
	d.cmd.Stdout, d.cmd.Stderr = &d.log, &d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill() // it may have exited already
		<-d.exited               // and the goroutine that waited for it
		if t.Failed() {
			t.Logf("callboxd said:\n%s", d.output())
		}
	})
	return d
}

// stop sends SIGTERM and checks callboxd leaves cleanly and at once.
func (d *runningDaemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM to callboxd: %v", err) // it had exited already
	}
	select {
	case <-d.exited:
		if d.err != nil {
			t.Errorf("callboxd exited with %v after SIGTERM, want 0", d.err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("callboxd still runs 10 s after SIGTERM")
	}
	if out := d.output(); strings.Contains(out, "panic") {
		t.Errorf("callboxd panicked:\n%s", out)
	}
}

func serverArgs(srv *lkserver.Server, room string) []string {
	return []string{"-url", srv.URL, "-room", room, "-identity", "box", "-api-key", srv.APIKey, "-api-secret", srv.APISecret}
}

// plainArgs are serverArgs for a box whose media a participant without
// keys watches: tests of media, not of encryption.
func plainArgs(srv *lkserver.Server, room string) []string {
	return append(serverArgs(srv, room), "-encryption", "none")
}

// startViewer joins room as a viewer that reads the test pattern's stamps,
// for the rest of the test.
func startViewer(t *testing.T, srv *lkserver.Server, room string) *viewer.Viewer {
	t.Helper()
	v, err := viewer.Start(call.Options{
		URL: srv.URL, Room: room, Identity: "viewer", APIKey: srv.APIKey, APISecret: srv.APISecret,
	}, viewer.ReadStamp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Leave)
	return v
}

// checkPictures asserts what a person watching would see: pictures keep
// coming, in order, each the frame after one before it.
func checkPictures(t *testing.T, v *viewer.Viewer, want int) {
	t.Helper()
	increasing := 0
	var prev uint32
	for _, p := range v.Pictures() {
		if p.Err != nil {
			continue
		}
		if p.Stamp.Frame > prev || increasing == 0 {
			increasing++
		} else {
			t.Errorf("frame %d arrived after frame %d", p.Stamp.Frame, prev)
		}
		prev = p.Stamp.Frame
	}
	if increasing < want {
		t.Errorf("%d pictures with increasing frame numbers, want at least %d", increasing, want)
	}
	if errs := v.Errors(); len(errs) > 0 {
		t.Errorf("the viewer could not decode everything: %v", errors.Join(errs...))
	}
}

// checkTone asserts the sound that arrives from the box is its 440 Hz tone.
func checkTone(t *testing.T, ctx context.Context, v *viewer.Viewer) {
	t.Helper()
	if _, err := v.WaitTone(ctx, "box", 440, 5); err != nil {
		t.Fatal(err)
	}
}

func TestCallSendsPicturesAndSound(t *testing.T) {
	for _, codec := range []string{"h264", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			srv := startServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			room := "family-" + codec
			v := startViewer(t, srv, room)
			args := plainArgs(srv, room)
			if codec == "vp8" { // and a token made elsewhere instead of a key and secret
				token, err := srv.Token(room, "box")
				if err != nil {
					t.Fatal(err)
				}
				args = []string{"-url", srv.URL, "-token", token, "-encryption", "none"}
			}
			d := startDaemon(t, append(args,
				"-codec", codec, "-width", "640", "-height", "360", "-tone-hz", "440")...)
			d.waitLog(t, "in the call", 30*time.Second)
			if err := v.WaitPictures(ctx, 100); err != nil {
				t.Fatal(err)
			}
			checkPictures(t, v, 90)
			checkTone(t, ctx, v)
			d.stop(t)
			if !strings.Contains(d.output(), "left the call") {
				t.Errorf("callboxd did not say it left the call")
			}
		})
	}
}

// TestServerDownThenUp: the box is switched on before the call server; it
// says so in plain words, keeps trying, and joins once the server is there.
func TestServerDownThenUp(t *testing.T) {
	srv := startServer(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, append(plainArgs(srv, "late"), "-width", "320", "-height", "180")...)
	d.waitLog(t, "refuses connections (is it running?)", 20*time.Second)
	time.Sleep(2500 * time.Millisecond) // let it try again twice (after 1 s and 2 s)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	v := startViewer(t, srv, "late")
	if err := v.WaitPictures(ctx, 30); err != nil {
		t.Fatal(err)
	}
	checkPictures(t, v, 30)
	d.stop(t)
	// One clear line for a person, not one per attempt, nor the WebRTC
	// stack's own version of it.
	if n := strings.Count(d.output(), "cannot join the call"); n != 1 {
		t.Errorf("the refused join was logged %d times, want once", n)
	}
	if strings.Contains(d.output(), "part=livekit") {
		t.Errorf("the LiveKit SDK's own lines are in the log at level info")
	}
}

// TestMissingCamera: a camera that is not there is reported, looked for
// again, and the call goes on with sound.
func TestMissingCamera(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v := startViewer(t, srv, "nocam")
	d := startDaemon(t, append(plainArgs(srv, "nocam"), "-camera", "/dev/video-does-not-exist")...)
	d.waitLog(t, "camera /dev/video-does-not-exist does not work; trying again", 20*time.Second)
	checkTone(t, ctx, v)
	if n := strings.Count(d.output(), "camera /dev/video-does-not-exist does not work"); n != 1 {
		t.Errorf("the missing camera was reported %d times, want once", n)
	}
	d.stop(t)
}

func TestBadConfigExits(t *testing.T) {
	tests := []struct {
		name string
		args []string
		file string
		says string
	}{
		{"unknown codec", []string{"-url", "ws://" + netns.Addr + ":1", "-room", "r", "-api-key", "k", "-api-secret", "s", "-codec", "h265"}, "", "video.codec"},
		{"no url", []string{"-room", "r"}, "", "call.url"},
		{"url of another kind", []string{"-url", "ftp://x", "-room", "r", "-api-key", "k", "-api-secret", "s"}, "", "call.url"},
		{"unknown setting", nil, "[call]\nurl = \"ws://h:1\"\nroom = \"r\"\napi_key = \"k\"\napi_secret = \"s\"\n[video]\ncolour = 1\n", "video.colour"},
		{"missing file", []string{"-config", "/nonexistent/callbox.toml"}, "", "no such file"},
		{"stray argument", []string{"now"}, "", "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				path := filepath.Join(t.TempDir(), "callbox.toml")
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-config", path)
			}
			cmd := exec.Command(daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd"), args...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitBadConfig {
				t.Fatalf("callboxd %v: %v, want exit code %d\n%s", args, err, exitBadConfig, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.says) {
				t.Errorf("callboxd said %q, want one line naming %s", out, tt.says)
			}
		})
	}
}
