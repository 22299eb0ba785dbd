package main

// The receive side, end to end: three participants (the Go SDK, through
// the box's own call.Session) each send a test pattern in their own colour
// and a tone of their own; callboxd draws them into an offscreen PNG and
// plays their sound into a file.

import (
	"context"
	byteorder "encoding/binary"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/compose"
)

// sender is a synthetic participant: its picture is tinted (cb, cr) and
// its sound is a tone at hz.
type sender struct {
	identity string
	cb, cr   byte
	hz       float64
}

var senders = []sender{
	{"alice", 90, 240, 500}, // red
	{"bob", 240, 90, 800},   // blue
	{"carol", 60, 60, 1200}, // green
}

const senderW, senderH = 320, 180

// tinted is a test pattern with its chroma set to one colour, except
// under the stamp, which stays neutral so the stamp reads back.
type tinted struct {
	camera.Source
	cb, cr byte
}

func (t *tinted) ReadFrame(ctx context.Context) (camera.Frame, error) {
	f, err := t.Source.ReadFrame(ctx)
	if err != nil {
		return f, err
	}
	w, h := f.Format.Width, f.Format.Height
	stamp := camera.StampRect(w, h)
	u, v := f.Data[w*h:w*h+w*h/4], f.Data[w*h+w*h/4:]
	for row := stamp.Max.Y / 2; row < h/2; row++ {
		for i := row * w / 2; i < (row+1)*w/2; i++ {
			u[i], v[i] = t.cb, t.cr
		}
	}
	return f, nil
}

// startSender joins the room as s until ctx ends; the returned channel
// closes when it has left.
func startSender(t *testing.T, ctx context.Context, srv *lkserver.Server, room string, s sender) <-chan struct{} {
	t.Helper()
	_, left := startSenderSession(t, ctx, srv, room, s, nil)
	return left
}

// startSenderSession is startSender with its session, whose options change
// may set (nil: none) before it starts.
func startSenderSession(t *testing.T, ctx context.Context, srv *lkserver.Server, room string, s sender, change func(*call.Options)) (*call.Session, <-chan struct{}) {
	t.Helper()
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: senderW, Height: senderH, FPS: 15})
	if err != nil {
		t.Fatal(err)
	}
	video := pipeline.NewVideoSender(pipeline.VideoSenderOptions{Codec: media.CodecH264,
		BitsPerSecond: 400_000, KeyframeInterval: 30, Mode: config.EncoderSoftware})
	tone, err := audio.NewTone(audio.ToneOptions{Frequency: s.hz, Amplitude: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	opus, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		t.Fatal(err)
	}
	opts := call.Options{URL: srv.URL, Room: room, Identity: s.identity, Name: s.identity,
		APIKey: srv.APIKey, APISecret: srv.APISecret, VideoCodec: media.CodecH264, Width: senderW, Height: senderH,
		MaxVideoBitrate: 400_000, Encoder: video}
	if change != nil {
		change(&opts)
	}
	session := call.New(opts)
	left := make(chan struct{})
	go func() {
		defer close(left)
		defer src.Close()
		defer tone.Close()
		defer opus.Close()
		var sending sync.WaitGroup // ends before what it reads and codes is closed
		defer sending.Wait()
		runPart(t, ctx, &sending, s.identity+"'s video", func(ctx context.Context) error {
			return video.Send(ctx, &tinted{Source: src, cb: s.cb, cr: s.cr}, session.WriteVideoLayer)
		})
		runPart(t, ctx, &sending, s.identity+"'s sound", func(ctx context.Context) error {
			return pipeline.SendAudio(ctx, tone, opus, session.WriteAudio)
		})
		if err := session.Run(ctx); err != nil {
			t.Errorf("%s's call: %v", s.identity, err)
		}
	}()
	return session, left
}

// runPart runs part of a call on wg until ctx ends, and fails the test
// when it ends with an error before: a sender that could not join says
// so, instead of the test finding only that no picture came.
func runPart(t *testing.T, ctx context.Context, wg *sync.WaitGroup, part string, run func(context.Context) error) {
	t.Helper()
	wg.Go(func() {
		if err := run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("%s: %v", part, err)
		}
	})
}

// screenTile is what the test found in one tile of the screen.
type screenTile struct {
	rect  image.Rectangle
	stamp camera.Stamp
	color compose.Color
}

// readScreen reads the PNG callboxd keeps and finds the tiles that show a
// sender's picture: for every place the layout engine may put three
// tiles, it reads a stamp; the tile's colour says whose picture it is.
func readScreen(path string) (map[string]screenTile, *display.Frame, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := decodeScreen(data)
	if err != nil {
		return nil, nil, err
	}
	b := f.Bounds()
	var rects []image.Rectangle
	for n := 1; n <= len(senders); n++ {
		ids := []string{"x", "y", "z"}[:n]
		for _, speaker := range append([]string{""}, ids...) {
			for _, t := range compose.Arrange(b.Size(), ids, speaker, true).Tiles {
				if r := compose.Fit(image.Pt(senderW, senderH), t.Rect); !slices.Contains(rects, r) {
					rects = append(rects, r)
				}
			}
		}
	}
	found := map[string]screenTile{}
	for _, r := range rects {
		stamp, err := compose.ReadTileStamp(f, r, image.Pt(senderW, senderH))
		if err != nil {
			continue
		}
		// The colour below the stamp says who it is.
		body := image.Rect(r.Min.X, r.Min.Y+r.Dy()/2, r.Max.X, r.Max.Y-r.Dy()/8)
		c := compose.MeanColor(f, body)
		red, green, blue := int(c>>16&0xff), int(c>>8&0xff), int(c&0xff)
		who := ""
		switch {
		case red > green+40 && red > blue+40:
			who = "alice"
		case blue > red+40 && blue > green+20:
			who = "bob"
		case green > red+40 && green > blue+40:
			who = "carol"
		}
		if who != "" {
			found[who] = screenTile{rect: r, stamp: stamp, color: c}
		}
	}
	return found, f, nil
}

// waitScreen reads the PNG until ok accepts what it shows. callboxd
// rewrites it twice a second, in another process: nothing to wait on.
func waitScreen(t *testing.T, path string, timeout time.Duration, ok func(map[string]screenTile) bool) map[string]screenTile {
	t.Helper()
	var found map[string]screenTile
	err := daemontest.Poll(timeout, 200*time.Millisecond, func() error {
		var err error
		if found, _, err = readScreen(path); err != nil {
			return err
		}
		if !ok(found) {
			return fmt.Errorf("the screen shows %s", describe(found))
		}
		return nil
	})
	if err != nil {
		keepScreen(t, path)
		t.Fatal(err)
	}
	return found
}

func describe(found map[string]screenTile) string {
	s := ""
	for who, tile := range found {
		s += fmt.Sprintf("%s: frame %d at %v (colour %06x); ", who, tile.stamp.Frame, tile.rect, tile.color)
	}
	if s == "" {
		return "no readable tile"
	}
	return s
}

// goertzelShare is the power of x at hz as a share of x's total power.
func goertzelShare(x []int16, hz float64) float64 {
	w := 2 * math.Pi * hz / audio.SampleRate
	c := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	return (s1*s1 + s2*s2 - c*s1*s2) / (total*float64(len(x))/2 + 1)
}

func TestReceiveShowsAndPlaysEveryone(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir()
	screenPNG, sound := filepath.Join(dir, "screen.png"), filepath.Join(dir, "sound.raw")
	cfgPath := filepath.Join(dir, "callbox.toml")
	cfgText := fmt.Sprintf(`[display]
output = "png:%s"
width = 1280
height = 720
fps = 15
[speaker]
device = "file:%s"
[video]
decoder = "software"
`, screenPNG, sound)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	const room = "receive"
	d := startDaemon(t, append(plainArgs(srv, room), "-config", cfgPath,
		"-width", "320", "-height", "180", "-fps", "15")...)
	d.waitLog(t, "in the call", 30*time.Second)
	d.waitLog(t, "showing the call", 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	leave := map[string]context.CancelFunc{}
	left := map[string]<-chan struct{}{}
	for _, s := range senders {
		sctx, scancel := context.WithCancel(ctx)
		leave[s.identity] = scancel
		left[s.identity] = startSender(t, sctx, srv, room, s)
		t.Cleanup(func() { scancel(); <-left[s.identity] })
	}

	// Each sender's picture in its own tile, with a readable frame number...
	all := func(found map[string]screenTile) bool { return len(found) == 3 }
	first := waitScreen(t, screenPNG, 25*time.Second, all)
	// ...decoded as video.decoder says, and the log says so.
	d.waitLog(t, `msg="video decoder: software" participant=alice codec=H264 why="software chosen in the settings"`, 5*time.Second)
	// ...that advances.
	time.Sleep(1500 * time.Millisecond) // let a second of pictures pass
	later := waitScreen(t, screenPNG, 20*time.Second, func(found map[string]screenTile) bool {
		if len(found) != 3 {
			return false
		}
		for who, tile := range found {
			if tile.stamp.Frame <= first[who].stamp.Frame {
				return false
			}
		}
		return true
	})
	t.Logf("screen: %s", describe(later))
	keepScreen(t, screenPNG)

	// Everyone's tone is in the speaker's sound.
	data, err := os.ReadFile(sound)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 4*audio.SampleRate {
		t.Fatalf("only %d bytes of sound were played", len(data))
	}
	pcm := make([]int16, audio.SampleRate) // the last second
	for i := range pcm {
		pcm[i] = int16(byteorder.LittleEndian.Uint16(data[len(data)-2*len(pcm)+2*i:]))
	}
	for _, s := range senders {
		if share := goertzelShare(pcm, s.hz); share < 0.1 {
			t.Errorf("%s's %v Hz tone has %.3f of the played sound's power, want about a third", s.identity, s.hz, share)
		}
	}

	// One leaves: their tile is gone within 2 s.
	leave["carol"]()
	<-left["carol"]
	gone := time.Now()
	waitScreen(t, screenPNG, 5*time.Second, func(found map[string]screenTile) bool {
		_, carol := found["carol"]
		return !carol && len(found) == 2
	})
	took := time.Since(gone)
	t.Logf("carol's tile went %v after she left", took.Round(10*time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("carol's tile went %v after she left, want within 2 s", took.Round(10*time.Millisecond))
	}
	d.stop(t)
}

// keepScreen copies the screen for a person to look at, when
// RECEIVE_TEST_PNG names a file.
func keepScreen(t *testing.T, path string) {
	t.Helper()
	if keep := os.Getenv("RECEIVE_TEST_PNG"); keep != "" {
		data, err := os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(keep, data, 0o644)
		}
		if err != nil {
			t.Errorf("RECEIVE_TEST_PNG: %v", err)
		}
	}
}

// TestVideoWithoutATileIsPaused: a participant the screen has no tile
// for (the tenth) is paused at the server: its pictures stop coming, and
// come again once it has a tile (call.Session.SetVideoSize, as the
// screen's OnTileSizes calls it).
func TestVideoWithoutATileIsPaused(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const room = "paused"
	red := sender{"red", 90, 240, 500}
	_, left := startSenderSession(t, ctx, srv, room, red, nil)
	got := newSeen(t, red)
	box := call.New(call.Options{URL: srv.URL, Room: room, Identity: "box", APIKey: srv.APIKey, APISecret: srv.APISecret,
		Logger: quietLog, Remote: call.RemoteOptions{Handlers: call.Handlers{Video: got.onVideo}}})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	runPart(t, ctx, &wg, "the box's call", box.Run)
	start := time.Now()
	waitFor(t, "the box reads red's pictures", 30*time.Second, func() bool { return got.read("red", start) >= 10 })

	box.SetVideoSize("red", 0, 0)
	time.Sleep(time.Second) // what was on its way
	paused := time.Now()
	time.Sleep(3 * time.Second)
	if n := got.read("red", paused); n > 2 {
		t.Errorf("%d pictures of red in the 3 s after its video was paused, want none", n)
	}
	box.SetVideoSize("red", 320, 180)
	resumed := time.Now()
	waitFor(t, "red's pictures come again once it has a tile", 10*time.Second, func() bool { return got.read("red", resumed) >= 10 })
	cancel()
	<-left
}
