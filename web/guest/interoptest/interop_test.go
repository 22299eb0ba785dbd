// Package interoptest checks that a browser guest and the box understand
// each other's end-to-end encrypted media: Debian's chromium, driven by
// playwright-core (interop.mjs), opens an invite link made by the real
// callboxctl, and joins a real LiveKit server's room with the real
// callboxd in it, all inside a private network namespace the test makes.
// It has no code of its own outside its test.
package interoptest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/pipeline/avcodec"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

func TestMain(m *testing.M) {
	call.UseLogger(slog.Default()) // the SDK's warnings only
	lkserver.RunInNamespace(m)
}

// guestPictures is what the box's side decodes of the guests' video.
type guestPictures struct {
	mu       sync.Mutex
	decoders map[string]*avcodec.VideoDecoder
	count    int
	distinct map[[32]byte]bool
	codecs   map[string]bool
	errs     []error
}

func (g *guestPictures) onVideo(f call.Frame) {
	if !strings.HasPrefix(f.From, "guest-") {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.decoders == nil {
		return // closed
	}
	dec, ok := g.decoders[f.From]
	if !ok {
		d, err := avcodec.NewVideoDecoder(string(f.Codec))
		if err != nil {
			g.errs = append(g.errs, err)
			return
		}
		dec, g.decoders[f.From] = d, d
	}
	g.codecs[string(f.Codec)] = true
	pic, err := dec.Decode(f.Data)
	if err != nil {
		g.errs = append(g.errs, err)
		return
	}
	if pic == nil {
		return
	}
	g.count++
	g.distinct[sha256.Sum256(pic.Y)] = true
}

// checkSamples are the Go participant's checks with three members, and
// whether the box's screen showed each.
type checkSamples struct {
	mu       sync.Mutex
	check    string
	onScreen map[string]bool
}

func (s *checkSamples) run(ctx context.Context, w *call.Watcher, box provisioning.LocalClient) {
	for ctx.Err() == nil {
		if st := w.Encryption(); len(st.Members) == 3 && st.Verification != "" {
			s.mu.Lock()
			s.check = st.Verification
			seen := s.onScreen[st.Verification]
			s.mu.Unlock()
			if !seen {
				if data, err := box.Screenshot(ctx); err == nil {
					if img, err := png.Decode(bytes.NewReader(data)); err == nil {
						f := frameOf(img)
						if _, ok := compose.FindText(f, f.Bounds(), "end-to-end encrypted, check "+st.Words); ok {
							s.mu.Lock()
							s.onScreen[st.Verification] = true
							s.mu.Unlock()
						}
					}
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type pageResult struct {
	Problems             []string       `json:"problems"`
	Fingerprint          string         `json:"fingerprint"`
	Words                string         `json:"words"`
	Admitted             bool           `json:"admitted"`
	Members              []string       `json:"members"`
	Status               string         `json:"status"`
	Encrypted            bool           `json:"encrypted"`
	DecryptErrors        int            `json:"decryptErrors"`
	Console              []string       `json:"console"` // all the page logged, with KEEP_CONSOLE
	Decoded              map[string]int `json:"decoded"` // pictures decoded of each participant's camera, in the page's last call
	EndStatus            string         `json:"endStatus"`
	EndWords             string         `json:"endWords"` // the members' check, in words, when sampling ended // what the page said when sampling ended
	Ends                 []string       `json:"ends"`     // why each of the page's calls ended (guest.js state.ends)
	JoinToFirstPictureMs int            `json:"joinToFirstPictureMs"`
	MissingKeyErrors     int            `json:"missingKeyErrors"`
	Publishing           []struct {
		Kind      string `json:"kind"`
		Encrypted any    `json:"encrypted"`
		Mime      string `json:"mime"`
	} `json:"publishing"`
	RingingStatus string   `json:"ringingStatus"`
	Rings         []string `json:"rings"`
	Pictures      []struct {
		Width  int    `json:"width"`
		Height int    `json:"height"`
		Luma   string `json:"luma"`
	} `json:"pictures"`
}

// rig is one test's LiveKit server, the real callboxd in its room, and the
// guest page served.
type rig struct {
	srv                         *lkserver.Server
	socket, callboxctl, pageURL string
	log                         *daemontest.Log // callboxd's
}

// rigSettings are what a test adds to callboxd's settings: lines of [call]
// and sections of their own; ready is callboxd's log line to wait for
// ("in the call" when empty); servers, when given, are the call servers
// callboxd knows, in its order (a cluster's nodes), else the rig starts
// one of its own.
type rigSettings struct {
	call, sections, ready string
	servers               []*lkserver.Server
}

func startRig(t *testing.T, ctx context.Context, room string, settings rigSettings) *rig {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("no /usr/bin/chromium: make test installs it (scripts/deps.sh)")
	}
	if _, err := os.Stat("../node_modules/playwright-core"); err != nil {
		t.Fatal("web/guest/node_modules/playwright-core is missing: run `make web`")
	}
	if !guest.Built() {
		t.Fatal("the guest page is not built: run `make web`")
	}
	if len(settings.servers) == 0 {
		srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		settings.servers = []*lkserver.Server{srv}
	}
	srv := settings.servers[0]
	var urls []string
	for _, s := range settings.servers {
		urls = append(urls, strconv.Quote(s.URL))
	}
	callboxd, callboxctl := daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd"), daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxctl")

	dir := t.TempDir()
	cfg := filepath.Join(dir, "callbox.toml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `[call]
url = [%s]
room = %q
identity = "box"
api_key = %q
api_secret = %q
%s
[video]
width = 320
height = 240

[display]
output = "offscreen"
width = 1920
height = 1080
fps = 10

[speaker]
device = "none"
%s`, strings.Join(urls, ", "), room, srv.APIKey, srv.APISecret, settings.call, settings.sections), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "control.sock")

	daemonLog := &daemontest.Log{}
	daemon := exec.Command(callboxd, "-config", cfg, "-control", socket)
	daemon.Stdout, daemon.Stderr = daemonLog, daemonLog
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = daemon.Process.Kill()
		_ = daemon.Wait() // killed: its status says only that
	})
	if settings.ready == "" {
		settings.ready = "in the call"
	}
	// Within the rig's ctx: a test that is out of time stops waiting.
	ready, cancelReady := context.WithTimeout(ctx, 30*time.Second)
	defer cancelReady()
	if daemonLog.Match(ready, regexp.MustCompile(regexp.QuoteMeta(settings.ready))) == nil {
		t.Fatalf("callboxd did not say %q within 30 s:\n%s", settings.ready, daemonLog.String())
	}

	// The guest page, over plain http on the namespace's address (the
	// browser is told to treat it as secure; the box serves it over HTTPS).
	ln, err := net.Listen("tcp", netns.Addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /guest/", http.StripPrefix("/guest", guest.Handler()))
	page := &http.Server{Handler: mux}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := page.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("the guest page's server: %v", err)
		}
	}()
	t.Cleanup(func() { page.Close(); <-served })
	return &rig{srv: srv, socket: socket, callboxctl: callboxctl, log: daemonLog, pageURL: "http://" + ln.Addr().String() + "/guest/"}
}

// invite asks the running box for an invite to its guest page as a user
// does (callboxctl invite -socket), with the flags given, and returns the
// link and all that callboxctl printed.
func (r *rig) invite(t *testing.T, flags ...string) (link, printed string) {
	t.Helper()
	out, err := exec.Command(r.callboxctl, append([]string{"invite", "-socket", r.socket, "-page", r.pageURL}, flags...)...).Output()
	if err != nil {
		t.Fatalf("callboxctl invite %v: %v", flags, err)
	}
	return strings.SplitN(string(out), "\n", 2)[0], string(out)
}

// openInPage runs interop.mjs on link with env (BOX_IDENTITY, MEMBERS, ...).
func openInPage(t *testing.T, ctx context.Context, link string, env ...string) pageResult {
	t.Helper()
	node := exec.CommandContext(ctx, "node", "interop.mjs")
	node.Env = append(append(os.Environ(), "INVITE="+link), env...)
	var nodeErr bytes.Buffer
	node.Stderr = &nodeErr
	res, err := node.Output()
	if err != nil {
		t.Fatalf("interop.mjs: %v\n%s", err, nodeErr.String())
	}
	var r pageResult
	if err := json.Unmarshal(res, &r); err != nil {
		t.Fatalf("interop.mjs said %s: %v\n%s", res, err, nodeErr.String())
	}
	for _, p := range r.Problems {
		t.Errorf("page: %s", p)
	}
	return r
}

// TestGuestJoinsFromChromium: the guest's page shows the box's fingerprint,
// joins encrypted, shows the box's pictures (their frame numbers read back
// off the page), and the box's side decodes the browser's changing video.
func TestGuestJoinsFromChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const room = "guests"
	rig := startRig(t, ctx, room, rigSettings{})
	socket := rig.socket

	// The box's receiving side: a Go participant with an invite of its
	// own, which decodes what guests send.
	memberLink, _ := rig.invite(t, "-name", "Receiver")
	opts, err := guest.MemberOptions(memberLink)
	if err != nil {
		t.Fatal(err)
	}
	got := &guestPictures{decoders: map[string]*avcodec.VideoDecoder{}, distinct: map[[32]byte]bool{}, codecs: map[string]bool{}}
	watcher, err := call.Watch(opts, call.Handlers{Video: got.onVideo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		watcher.Leave()
		got.mu.Lock()
		for _, d := range got.decoders {
			d.Close()
		}
		got.decoders = nil
		got.mu.Unlock()
	})

	link, out := rig.invite(t, "-once")
	if strings.Contains(link, "k=") || !strings.Contains(out, "callboxctl revoke") {
		t.Errorf("callboxctl invite printed %s", out)
	}

	// While the page runs: the Go participant's check whenever it sees
	// three members, and whether the box's screen shows it then.
	samples := &checkSamples{onScreen: map[string]bool{}}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var sampling sync.WaitGroup
	sampling.Go(func() { samples.run(sampleCtx, watcher, provisioning.LocalClient{Socket: socket}) })
	t.Cleanup(func() { stopSampling(); sampling.Wait() })

	// 15 pictures over 6 s: whether the box's pictures play. How soon and
	// how smoothly they start is TestGuestPicturesDoNotFreeze's.
	r := openInPage(t, ctx, link, "BOX_IDENTITY=box", "SAMPLES=15", "SAMPLE_GAP_MS=400")
	t.Logf("page: status %q, fingerprint %s, encrypted %v, publishing %+v, %d pictures sampled; from Join to the box's first picture %d ms, %d frames before the box's key came",
		r.Status, r.Fingerprint, r.Encrypted, r.Publishing, len(r.Pictures), r.JoinToFirstPictureMs, r.MissingKeyErrors)

	// The members' check: the same on the page, for the Go participant,
	// and on the box's screen, while all three were in the call.
	stopSampling()
	sampling.Wait()
	samples.mu.Lock()
	withThree, onScreen := samples.check, samples.onScreen
	samples.mu.Unlock()
	if !r.Admitted || len(r.Members) != 3 || r.Fingerprint == "" {
		t.Errorf("the page: admitted %v, members %v, check %q", r.Admitted, r.Members, r.Fingerprint)
	}
	if r.Fingerprint != withThree {
		t.Errorf("the page's check %q, the Go participant's with three members %q", r.Fingerprint, withThree)
	}
	if r.Words != call.FingerprintWords(withThree) || !onScreen[withThree] {
		t.Errorf("the page writes %q; the box's screen showed the Go participant's check %q: %v", r.Words, call.FingerprintWords(withThree), onScreen[withThree])
	}
	if !r.Encrypted || !strings.Contains(r.Status, "end-to-end encrypted") {
		t.Errorf("page: encrypted %v, status %q", r.Encrypted, r.Status)
	}
	after := watcher.Encryption()
	for deadline := time.Now().Add(10 * time.Second); len(after.Members) == 3 && time.Now().Before(deadline); after = watcher.Encryption() {
		time.Sleep(100 * time.Millisecond) // the guest's leave reaches the box, and its roster the Go participant
	}
	t.Logf("the check with the guest: %s (%s); after the guest left: %s", r.Fingerprint, r.Words, after.Verification)
	if after.Verification == withThree || len(after.Members) != 2 {
		t.Errorf("after the guest left the Go participant sees %+v", after)
	}

	checkBoxPictures(t, r)

	// The guest's video as the box decodes it: many pictures, changing.
	got.mu.Lock()
	count, distinct, codecs, errs := got.count, len(got.distinct), got.codecs, got.errs
	got.mu.Unlock()
	stats := watcher.DecryptStats()
	t.Logf("box side: %d pictures from the guest (%d distinct, codecs %v), decryption %+v", count, distinct, codecs, stats)
	if count < 30 || distinct < 20 {
		t.Errorf("the box decoded %d pictures of the guest, %d distinct; want at least 30 and 20", count, distinct)
	}
	if len(errs) > 0 {
		t.Errorf("the box could not decode the guest's video: %v", errs[0])
	}
	if stats.Decrypted == 0 {
		t.Errorf("nothing decrypted: %+v", stats)
	}
}

// TestGuestInARoomOfTwoBoxes: the real callboxd and a second box list each
// other (call.boxes, the key from callboxctl box-key). The page comes with
// an invite of the box that does not lead: it proves the invite to its own
// box, which vouches for it, follows the leader's roster, plays callboxd's
// pictures and shows the same check as the second box and callboxd's
// screen.
func TestGuestInARoomOfTwoBoxes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const room = "two-boxes"
	other, err := keys.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	rig := startRig(t, ctx, room, rigSettings{call: fmt.Sprintf("boxes = [%q]\n", keys.EncodeBytes(other.SigKey()))})
	out, err := exec.Command(rig.callboxctl, "box-key", "-socket", rig.socket).Output()
	if err != nil {
		t.Fatalf("callboxctl box-key: %v", err)
	}
	daemonKey, err := keys.DecodeBytes(strings.TrimSpace(string(out)), keys.BoxKeySize)
	if err != nil {
		t.Fatalf("callboxctl box-key printed %q: %v", out, err)
	}
	book, err := keys.NewInviteBook(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	box2, err := call.Watch(call.Options{URL: rig.srv.URL, Room: room, Identity: "box-2", APIKey: rig.srv.APIKey, APISecret: rig.srv.APISecret,
		Group: &call.GroupOptions{Identity: other, Invites: book, Boxes: [][]byte{daemonKey}}}, call.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	defer box2.Leave()

	// The lower key leads; the page is a guest of the other box.
	leader := "box"
	var link string
	if bytes.Compare(daemonKey, other.SigKey()) < 0 {
		inv, err := guest.NewInvite(guest.InviteOptions{ServerURL: rig.srv.URL, APIKey: rig.srv.APIKey, APISecret: rig.srv.APISecret,
			Room: room, ValidFor: time.Hour, Invites: book, BoxKey: other.SigKey(), Once: true})
		if err != nil {
			t.Fatal(err)
		}
		if link, err = guest.Link(rig.pageURL, inv); err != nil {
			t.Fatal(err)
		}
	} else {
		leader = "box-2"
		link, _ = rig.invite(t, "-once")
	}
	waitUntil := time.Now().Add(15 * time.Second)
	for box2.Encryption().Leader != leader || len(box2.Encryption().Members) != 2 {
		if time.Now().After(waitUntil) {
			t.Fatalf("the two boxes did not make one call led by %s: %+v", leader, box2.Encryption())
		}
		time.Sleep(100 * time.Millisecond)
	}

	samples := &checkSamples{onScreen: map[string]bool{}}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var sampling sync.WaitGroup
	sampling.Go(func() { samples.run(sampleCtx, box2, provisioning.LocalClient{Socket: rig.socket}) })
	t.Cleanup(func() { stopSampling(); sampling.Wait() })
	r := openInPage(t, ctx, link, "BOX_IDENTITY=box", "MEMBERS=3", "SAMPLES=10", "SAMPLE_GAP_MS=300")
	stopSampling()
	sampling.Wait()
	samples.mu.Lock()
	withThree, onScreen := samples.check, samples.onScreen[samples.check]
	samples.mu.Unlock()
	t.Logf("led by %s; the page's check %s, box-2's with three %s (on callboxd's screen: %v)", leader, r.Fingerprint, withThree, onScreen)
	if !r.Admitted || !slices.Contains(r.Members, "box") || !slices.Contains(r.Members, "box-2") {
		t.Errorf("the page: admitted %v, members %v", r.Admitted, r.Members)
	}
	if r.Fingerprint == "" || r.Fingerprint != withThree || !onScreen {
		t.Errorf("the page's check %q, box-2's %q, on callboxd's screen %v", r.Fingerprint, withThree, onScreen)
	}
	distinct := map[uint32]bool{}
	for _, p := range r.Pictures {
		y, err := base64.StdEncoding.DecodeString(p.Luma)
		if err != nil || len(y) != p.Width*p.Height {
			t.Fatalf("a picture of %dx%d with %d bytes of luma: %v", p.Width, p.Height, len(y), err)
		}
		if s, err := camera.ReadStamp(y, p.Width, p.Width, p.Height); err == nil {
			distinct[s.Frame] = true
		}
	}
	if len(distinct) < 3 {
		t.Errorf("%d distinct frame numbers of callboxd read off the page, want at least 3", len(distinct))
	}
}

// TestGuestPicturesDoNotFreeze: ten guests, each with a one-visit invite
// of their own, join one after the other, and none sees a picture of the
// box held longer than 500 ms in its first 10 s (freeze.mjs, on the
// page). Before the box followed a keyframe asked for with three more
// (call/keyframe.go), about half of the joins showed the first picture
// for 3 s.
func TestGuestPicturesDoNotFreeze(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := startRig(t, ctx, "guests", rigSettings{})
	const joins = 10
	invites := make([]string, joins)
	for i := range invites {
		invites[i], _ = b.invite(t, "-once", "-name", fmt.Sprintf("Guest %d", i+1))
	}
	node := exec.CommandContext(ctx, "node", "freeze.mjs")
	node.Env = append(os.Environ(), "INVITES="+strings.Join(invites, "\n"), "BOX_IDENTITY=box", "WATCH_MS=10000")
	var nodeErr bytes.Buffer
	node.Stderr = &nodeErr
	res, err := node.Output()
	if err != nil {
		t.Fatalf("freeze.mjs: %v\n%s", err, nodeErr.String())
	}
	var r struct {
		Problems []string `json:"problems"`
		Joins    []struct {
			FirstPictureMs int `json:"firstPictureMs"`
			Pictures       int `json:"pictures"`
			HeldMs         int `json:"heldMs"`
			HeldAtMs       int `json:"heldAtMs"`
		} `json:"joins"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		t.Fatalf("freeze.mjs said %s: %v\n%s", res, err, nodeErr.String())
	}
	for _, p := range r.Problems {
		t.Errorf("page: %s", p)
	}
	for i, j := range r.Joins {
		t.Logf("join %d: the first picture %d ms after Join, %d pictures in the 10 s after it, the longest held %d ms (%d ms after the first)",
			i+1, j.FirstPictureMs, j.Pictures, j.HeldMs, j.HeldAtMs)
		if j.HeldMs > 500 {
			t.Errorf("join %d: a picture of the box stayed %d ms, %d ms after the first; want none over 500 ms", i+1, j.HeldMs, j.HeldAtMs)
		}
	}
	if len(r.Joins) != joins {
		t.Errorf("%d joins measured, want %d", len(r.Joins), joins)
	}
}

// frameOf is a screenshot as the screen's frame, for compose.FindText.
func frameOf(img image.Image) *display.Frame {
	b := img.Bounds()
	f := display.NewFrame(b.Dx(), b.Dy())
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*f.Stride + 4*x
			f.Pix[i], f.Pix[i+1], f.Pix[i+2] = byte(bl>>8), byte(g>>8), byte(r>>8)
		}
	}
	return f
}

// checkBoxPictures: the box's pictures as the page showed them carry frame
// numbers, increasing, at least 5 of them.
func checkBoxPictures(t *testing.T, r pageResult) {
	t.Helper()
	var frames []uint32
	for _, p := range r.Pictures {
		y, err := base64.StdEncoding.DecodeString(p.Luma)
		if err != nil || len(y) != p.Width*p.Height {
			t.Fatalf("a picture of %dx%d with %d bytes of luma: %v", p.Width, p.Height, len(y), err)
		}
		if s, err := camera.ReadStamp(y, p.Width, p.Width, p.Height); err == nil {
			frames = append(frames, s.Frame)
		}
	}
	t.Logf("frame numbers read off the page: %v", frames)
	distinctFrames := 0
	for i, f := range frames {
		if i > 0 && f < frames[i-1] {
			t.Errorf("the page showed frame %d after %d", f, frames[i-1])
		}
		if i == 0 || f != frames[i-1] {
			distinctFrames++
		}
	}
	if distinctFrames < 5 {
		t.Errorf("%d distinct frame numbers read off the page, want at least 5", distinctFrames)
	}
}

// TestGuestRingsTheBox: a box that rings (ring.enabled) waits in its line;
// a guest opens its invite link in Chromium and joins: the page says it
// rings the box, the box rings with the guest's name on its screen. The
// box answers (callboxctl answer): the page shows the box's pictures,
// advancing, and the box's screen the guest's, moving.
func TestGuestRingsTheBox(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	box := startRig(t, ctx, "line", rigSettings{sections: "\n[controls]\nstart_in_call = false\n\n[ring]\nenabled = true\n", ready: "in the line, waiting for calls"})
	link, _ := box.invite(t, "-name", "Grandchild")

	// The box's side while the page runs: answer once it rings with the
	// guest's name on the screen, then watch the guest's tile move.
	api := provisioning.LocalClient{Socket: box.socket}
	answered := make(chan error, 1)
	go func() { answered <- answerAndWatch(ctx, api, box.callboxctl, box.socket, "Grandchild") }()

	r := openInPage(t, ctx, link, "BOX_IDENTITY=box", "SAMPLES=15", "SAMPLE_GAP_MS=400", "MEMBERS=2", "RING=1", "STAY_MS=6000")
	t.Logf("page: while ringing %q, then %q; the box said %q", r.RingingStatus, r.Status, r.Rings)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.RingingStatus, "Ringing") {
		t.Errorf("the page said %q while the box rang, want Ringing", r.RingingStatus)
	}
	if len(r.Rings) < 2 || r.Rings[0] != call.RingRinging || r.Rings[1] != call.RingAnswered {
		t.Errorf("the box told the page %q, want ringing, then answered", r.Rings)
	}
	checkBoxPictures(t, r)
}

// answerAndWatch waits until the box rings for name and its screen says
// so, answers with callboxctl, and waits until the caller's tile on the
// box's screen moves (Chromium's fake camera draws a turning arc) from
// one screenshot to the next, three times running.
func answerAndWatch(ctx context.Context, api provisioning.LocalClient, callboxctl, socket, name string) error {
	err := daemontest.Poll(60*time.Second, 200*time.Millisecond, func() error {
		st, err := api.Ring(ctx)
		if err != nil {
			return err
		}
		if st.State != call.Ringing.String() || !slices.Contains(st.Callers, name) {
			return fmt.Errorf("the box's call: %+v", st)
		}
		f, err := screen(ctx, api)
		if err != nil {
			return err
		}
		if _, ok := compose.FindText(f, f.Bounds(), name); !ok {
			return fmt.Errorf("the box rings, but its screen does not name %s", name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the box to ring: %w", err)
	}
	if out, err := exec.Command(callboxctl, "answer", "-socket", socket).CombinedOutput(); err != nil {
		return fmt.Errorf("callboxctl answer: %w: %s", err, out)
	}
	var last *display.Frame
	moved := 0
	err = daemontest.Poll(20*time.Second, 500*time.Millisecond, func() error {
		f, err := screen(ctx, api)
		if err != nil {
			return err
		}
		layout := compose.Arrange(f.Bounds().Size(), []string{name}, "", true)
		prev := last
		last = f
		if prev == nil {
			return errors.New("one screenshot so far")
		}
		if n := changedPixels(prev, f, layout.Tiles[0].Rect, layout.Self); n < 1000 {
			moved = 0
			return fmt.Errorf("%d pixels of the caller's tile changed in 0.5 s", n)
		}
		if moved++; moved < 3 {
			return fmt.Errorf("the caller's tile moved %d times running", moved)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("the box's screen does not show the guest's moving picture after the answer: %w", err)
	}
	return nil
}

func screen(ctx context.Context, api provisioning.LocalClient) (*display.Frame, error) {
	data, err := api.Screenshot(ctx)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return frameOf(img), nil
}

// changedPixels counts the pixels of r, but for those of not (the self
// view drawn over it), that differ between a and b by more than a little
// in any colour.
func changedPixels(a, b *display.Frame, r, not image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if image.Pt(x, y).In(not) {
				continue
			}
			i := y*a.Stride + 4*x
			for c := range 3 {
				if d := int(a.Pix[i+c]) - int(b.Pix[i+c]); d > 16 || d < -16 {
					n++
					break
				}
			}
		}
	}
	return n
}

// TestGuestSharesAScreen: a guest in Chromium (no camera: it joins to see
// and share) shares its tab from the guest page, end-to-end encrypted; the
// box's screen shows it large, its colours changing as the tab's do; the
// page's "Stop sharing" brings the grid back. A browser that cannot share
// (a phone's) offers no button.
func TestGuestSharesAScreen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rig := startRig(t, ctx, "share", rigSettings{})
	link, _ := rig.invite(t, "-name", "Presenter")
	api := provisioning.LocalClient{Socket: rig.socket}

	node := exec.CommandContext(ctx, "node", "share.mjs")
	node.Env = append(os.Environ(), "INVITE="+link)
	var nodeErr bytes.Buffer
	node.Stderr = &nodeErr
	stdin, err := node.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := node.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = node.Wait() // what it printed is checked below; a kill says only that
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "sharing" {
		first := lines.Text()
		stdin.Close()
		lines.Scan()
		t.Fatalf("share.mjs did not share: %q %q\n%s", first, lines.Text(), nodeErr.String())
	}

	// The tab on the box's screen: large, and its colours changing.
	magenta := func(r, g, b byte) bool { return r > 180 && g < 90 && b > 180 }
	cyan := func(r, g, b byte) bool { return r < 90 && g > 180 && b > 180 }
	seen := map[string]image.Rectangle{}
	err = daemontest.Poll(40*time.Second, 300*time.Millisecond, func() error {
		f, err := screen(ctx, api)
		if err != nil {
			return err
		}
		for name, match := range map[string]func(r, g, b byte) bool{"magenta": magenta, "cyan": cyan} {
			if r, n := colourBounds(f, match); n > 600*400 {
				seen[name] = r
			}
		}
		if len(seen) < 2 {
			return fmt.Errorf("the shared tab's colours seen large on the screen: %v", seen)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range seen {
		// The tab is 1280x720: drawn at its own size, never squeezed into a tile.
		if r.Dx() < 1200 || r.Dy() < 650 {
			t.Errorf("the shared tab (%s) is drawn at %v; want about 1280x720", name, r.Size())
		}
	}

	// Stop sharing: the grid comes back.
	stdin.Close()
	err = daemontest.Poll(20*time.Second, 300*time.Millisecond, func() error {
		f, err := screen(ctx, api)
		if err != nil {
			return err
		}
		// The self view's colour bars have some magenta and cyan: about
		// 9,000 pixels of them; the tab had 900,000.
		_, m := colourBounds(f, magenta)
		_, c := colourBounds(f, cyan)
		if m+c > 50_000 {
			return fmt.Errorf("%d pixels of the shared tab's colours still on the screen", m+c)
		}
		return nil
	})
	if err != nil {
		t.Error("after Stop sharing: ", err)
	}
	var r struct {
		Problems                    []string
		CanShare, PhoneCanShare     bool
		Devices, ButtonWhileSharing string
		Stopped                     bool
		ButtonAfter                 string
	}
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &r) != nil {
		t.Fatalf("share.mjs said %q\n%s", lines.Text(), nodeErr.String())
	}
	for _, p := range r.Problems {
		t.Errorf("page: %s", p)
	}
	if !r.CanShare || r.PhoneCanShare {
		t.Errorf("the page says a laptop can share: %v, a phone: %v; want true, false", r.CanShare, r.PhoneCanShare)
	}
	if r.ButtonWhileSharing != "Stop sharing" || !r.Stopped || r.ButtonAfter != "Share screen" {
		t.Errorf("the button said %q while sharing and %q after (stopped: %v)", r.ButtonWhileSharing, r.ButtonAfter, r.Stopped)
	}
	if !strings.Contains(r.Devices, "camera and microphone are not in the call") {
		t.Errorf("the page without a camera says %q", r.Devices)
	}
}

// colourBounds is the bounding box of f's pixels that match, and how many.
func colourBounds(f *display.Frame, match func(r, g, b byte) bool) (image.Rectangle, int) {
	var box image.Rectangle
	n := 0
	for y := range f.Height {
		for x := range f.Width {
			i := y*f.Stride + 4*x
			if match(f.Pix[i+2], f.Pix[i+1], f.Pix[i]) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return box, n
}
