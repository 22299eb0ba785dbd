package main

// The screen scenario: the guest's callboxd shows the call on the bochs
// display through DRM/KMS; a remote participant on the host sends the test
// pattern; QMP screendumps of the display must show that pattern in the
// remote's tile, with a stamp that reads and advances.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/compose"
)

// The remote participant. 320x180 keeps decoding cheap for the guest's one
// TCG CPU; on a 1280x800 screen its tile is about four times as large, so
// each 8-pixel stamp cell is some 32 pixels on the screen.
const (
	remoteIdentity = "lab-remote"
	remoteName     = "Lab remote"
	remoteWidth    = 320
	remoteHeight   = 180
	remoteFPS      = 10
)

// minTilePSNR is how alike (in dB) the remote's tile on the screen and the
// picture sent under the stamp it shows must be, in RGB. Measured in the
// lab: 31 dB for the picture sent (H.264 at 400 kb/s, scaled up fourfold);
// the frame before it, its ramp 4 pixels off, 21 dB, and others less.
const minTilePSNR = 26

func screenScenario(ctx context.Context, l *lab) error {
	qmpPath := os.Getenv("LAB_QMP")
	if qmpPath == "" {
		return errors.New("LAB_QMP is not set: run through lab/run.sh")
	}
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: l.hostIP, LogFile: filepath.Join(l.out, "livekit-server.log")})
	if err != nil {
		return err
	}
	l.srv = srv
	l.log.Info("LiveKit server up", "url", srv.URL)

	sent := newSentPictures(300)
	stopRemote, err := startRemote(ctx, srv, sent)
	if err != nil {
		return err
	}
	defer stopRemote()

	if err := l.waitEvent(ctx, "want-call-server", 120*time.Second); err != nil {
		return err
	}
	if err := l.tell(fmt.Sprintf("call-server %s %s %s", srv.URL, srv.APIKey, srv.APISecret)); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "remote-joined", 120*time.Second); err != nil {
		return err
	}
	joined := l.lastEventSeen

	shots := &screendumps{qmp: qmpPath, dir: l.out}
	first, err := shots.waitFor(ctx, sent, "screen-1", 40*time.Second, func(tileSeen) bool { return true })
	if err != nil {
		return err
	}
	slog.Info("the remote's pattern is on the screen",
		"after_join_s", fmt.Sprintf("%.1f", first.taken.Sub(joined).Seconds()), "tries", shots.tries)
	first.report("first screendump")
	// A second later the screen must show a newer picture of the remote:
	// the screen keeps up, not one picture that got there.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
	}
	second, err := shots.waitFor(ctx, sent, "screen-2", 20*time.Second, func(t tileSeen) bool {
		return t.stamp.Frame > first.stamp.Frame
	})
	if err != nil {
		return fmt.Errorf("after frame %d: %w", first.stamp.Frame, err)
	}
	second.report("second screendump")
	slog.Info("the remote's stamp advances on the screen", "frames", second.stamp.Frame-first.stamp.Frame,
		"in_s", fmt.Sprintf("%.1f", second.taken.Sub(first.taken).Seconds()))
	return l.tell("done")
}

// startRemote joins the room as the remote participant, sending the test
// pattern as H.264 and recording each picture it sends in sent, until the
// returned stop is called or ctx ends.
func startRemote(ctx context.Context, srv *lkserver.Server, sent *sentPictures) (stop func(), err error) {
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: remoteWidth, Height: remoteHeight, FPS: remoteFPS})
	if err != nil {
		return nil, err
	}
	video := pipeline.NewVideoSender(pipeline.VideoSenderOptions{Codec: media.CodecH264,
		BitsPerSecond: 400_000, KeyframeInterval: 2 * remoteFPS, Mode: config.EncoderSoftware})
	session := call.New(call.Options{URL: srv.URL, Room: room, Identity: remoteIdentity, Name: remoteName,
		APIKey: srv.APIKey, APISecret: srv.APISecret, VideoCodec: media.CodecH264,
		Width: remoteWidth, Height: remoteHeight, MaxVideoBitrate: 400_000, Encoder: video})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := video.Send(ctx, &recordingSource{Source: src, sent: sent}, session.WriteVideoLayer); err != nil {
				slog.Error("the remote participant stopped sending", "err", err)
			}
		})
		_ = session.Run(ctx)
		wg.Wait()
		src.Close()
	}()
	return func() { cancel(); <-done }, nil
}

// sentPictures keeps the newest pictures the remote sent (I420,
// remoteWidth x remoteHeight), by frame number, to compare with what the
// screen shows.
type sentPictures struct {
	mu       sync.Mutex
	keep     int
	pictures map[uint32]sentPicture
	order    []uint32
}

type sentPicture struct {
	time time.Time // the capture time its stamp carries
	i420 []byte
}

func newSentPictures(keep int) *sentPictures {
	return &sentPictures{keep: keep, pictures: map[uint32]sentPicture{}}
}

func (s *sentPictures) add(stamp camera.Stamp, i420 []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	frame := stamp.Frame
	s.pictures[frame] = sentPicture{time: stamp.Time, i420: append([]byte(nil), i420...)}
	s.order = append(s.order, frame)
	if len(s.order) > s.keep {
		delete(s.pictures, s.order[0])
		s.order = s.order[1:]
	}
}

func (s *sentPictures) get(frame uint32) (sentPicture, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pictures[frame]
	return p, ok
}

// recordingSource records each test-pattern picture as it is sent.
type recordingSource struct {
	camera.Source
	sent *sentPictures
}

func (r *recordingSource) ReadFrame(ctx context.Context) (camera.Frame, error) {
	f, err := r.Source.ReadFrame(ctx)
	if err == nil {
		if size := remoteWidth * remoteHeight * 3 / 2; f.Format.Width == remoteWidth && f.Format.Height == remoteHeight && len(f.Data) >= size {
			// The test pattern stamps each picture with these.
			r.sent.add(camera.Stamp{Frame: uint32(f.Seq), Time: f.Time}, f.Data[:size])
		}
	}
	return f, err
}

// tileSeen is what one screendump showed of the remote.
type tileSeen struct {
	taken time.Time
	size  image.Point     // the screen's
	tile  image.Rectangle // where the remote's picture is drawn
	stamp camera.Stamp
	psnr  float64 // of the tile against the picture sent with that stamp
	self  string  // what the self view showed, for the log
	ppm   string
	delay time.Duration // from the stamp's capture to the screendump
}

func (t tileSeen) report(what string) {
	slog.Info(what, "screen", fmt.Sprintf("%dx%d", t.size.X, t.size.Y), "tile", t.tile.String(),
		"frame", t.stamp.Frame, "psnr_db", fmt.Sprintf("%.1f", t.psnr),
		"capture_to_screendump_ms", t.delay.Milliseconds(), "self_view", t.self, "file", t.ppm)
}

// checkScreen finds the remote's tile in a screendump where the remote is
// the only other participant, and checks it holds the picture sent under
// the stamp it shows, labelled with the remote's name, over a status line
// that says the box is in the call.
func checkScreen(f *display.Frame, sent *sentPictures) (tileSeen, error) {
	size := image.Pt(f.Width, f.Height)
	picture := image.Pt(remoteWidth, remoteHeight)
	l := compose.Arrange(size, []string{remoteIdentity}, "", true)
	if len(l.Tiles) != 1 {
		return tileSeen{}, fmt.Errorf("the layout has %d tiles for one remote", len(l.Tiles))
	}
	tile := compose.Fit(picture, l.Tiles[0].Rect)
	seen := tileSeen{size: size, tile: tile}
	stamp, err := compose.ReadTileStamp(f, tile, picture)
	if err != nil {
		return seen, fmt.Errorf("the remote's tile %v shows no readable stamp (%w); its mean colour is %06x",
			tile, err, uint32(compose.MeanColor(f, tile)))
	}
	seen.stamp = stamp
	// The frame number and the capture time tell the remote's pictures
	// from the box's own test pattern, should that fill the screen.
	want, ok := sent.get(stamp.Frame)
	if !ok || want.time.UnixMilli() != stamp.Time.UnixMilli() {
		return seen, fmt.Errorf("the remote's tile shows frame %d captured at %s, which the remote did not send lately",
			stamp.Frame, stamp.Time.Format("15:04:05.000"))
	}
	// The self view covers a corner of the stage; the name's label the
	// bottom of the tile.
	r := l.Tiles[0].Rect
	label := image.Rect(r.Min.X, r.Max.Y-compose.LabelHeight(f.Height), r.Max.X, r.Max.Y)
	seen.psnr = tilePSNR(f, tile, want.i420, l.Self, label)
	if seen.psnr < minTilePSNR {
		return seen, fmt.Errorf("the remote's tile shows frame %d's stamp, but the rest of it is not that picture: PSNR %.1f dB, want %d dB or more",
			stamp.Frame, seen.psnr, minTilePSNR)
	}
	if _, ok := compose.FindText(f, l.Tiles[0].Rect, remoteName); !ok {
		return seen, fmt.Errorf("the remote's tile has no label %q", remoteName)
	}
	if _, ok := compose.FindText(f, l.Status, "in the call"); !ok {
		return seen, errors.New(`the status line does not say "in the call"`)
	}
	seen.self = "no readable stamp"
	if self, err := compose.ReadTileStamp(f, compose.Fit(picture, l.Self), picture); err == nil {
		seen.self = fmt.Sprintf("frame %d", self.Frame)
	}
	return seen, nil
}

// tilePSNR compares the tile with the picture sent (I420 in BT.601 video
// range, as libswscale converts it for the screen): at the centre of each
// picture pixel's place in the tile, the screen's RGB against the picture's
// pixel in RGB. Places covered (the self view, the name's label) are left
// out.
func tilePSNR(f *display.Frame, tile image.Rectangle, i420 []byte, covered ...image.Rectangle) float64 {
	const w, h = remoteWidth, remoteHeight
	tile = tile.Intersect(f.Bounds())
	if tile.Empty() || len(i420) < w*h*3/2 {
		return 0
	}
	yPlane, uPlane, vPlane := i420[:w*h], i420[w*h:w*h+w*h/4], i420[w*h+w*h/4:]
	var sum float64
	n := 0
	for y := range h {
		sy := tile.Min.Y + (2*y+1)*tile.Dy()/(2*h)
		for x := range w {
			sx := tile.Min.X + (2*x+1)*tile.Dx()/(2*w)
			if slices.ContainsFunc(covered, image.Pt(sx, sy).In) {
				continue
			}
			want := bt601ToRGB(yPlane[y*w+x], uPlane[(y/2)*(w/2)+x/2], vPlane[(y/2)*(w/2)+x/2])
			got := f.Pix[sy*f.Stride+4*sx:]
			for c, g := range [3]byte{got[2], got[1], got[0]} {
				d := float64(g) - want[c]
				sum += d * d
			}
			n += 3
		}
	}
	if n == 0 {
		return 0
	}
	mse := sum / float64(n)
	if mse == 0 {
		return 99
	}
	return 10 * math.Log10(255*255/mse)
}

// bt601ToRGB converts one video-range BT.601 pixel to full-range RGB.
func bt601ToRGB(y, u, v byte) [3]float64 {
	yy, cb, cr := 1.164*(float64(y)-16), float64(u)-128, float64(v)-128
	clip := func(x float64) float64 { return max(0, min(255, x)) }
	return [3]float64{clip(yy + 1.596*cr), clip(yy - 0.392*cb - 0.813*cr), clip(yy + 2.017*cb)}
}

// screendumps takes QMP screendumps of the VM's display.
type screendumps struct {
	qmp, dir string
	tries    int
}

// waitFor takes screendumps until one shows the remote's pattern and ok
// accepts it; it keeps that one as NAME.ppm and NAME.png.
func (s *screendumps) waitFor(ctx context.Context, sent *sentPictures, name string, timeout time.Duration, ok func(tileSeen) bool) (tileSeen, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	poll := filepath.Join(s.dir, "screen-poll.ppm")
	var lastErr error
	for {
		s.tries++
		taken := time.Now()
		if err := qmpScreendump(ctx, s.qmp, poll); err != nil {
			return tileSeen{}, err
		}
		f, err := readPPM(poll)
		if err != nil {
			return tileSeen{}, err
		}
		seen, err := checkScreen(f, sent)
		seen.taken = taken
		seen.delay = taken.Sub(seen.stamp.Time)
		if err == nil && !ok(seen) {
			err = fmt.Errorf("the remote's tile still shows frame %d", seen.stamp.Frame)
		}
		if err == nil {
			seen.ppm = filepath.Join(s.dir, name+".ppm")
			if err := os.Rename(poll, seen.ppm); err != nil {
				return seen, err
			}
			if err := savePNG(f, filepath.Join(s.dir, name+".png")); err != nil {
				slog.Warn("no PNG of the screendump", "err", err)
			}
			return seen, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			// Keep what the screen showed last, for a person to look at.
			_ = os.Rename(poll, filepath.Join(s.dir, name+"-failed.ppm"))
			_ = savePNG(f, filepath.Join(s.dir, name+"-failed.png"))
			return tileSeen{}, fmt.Errorf("after %s of screendumps (%s-failed.png): %w", timeout, name, lastErr)
		case <-time.After(250 * time.Millisecond): // a screendump is a copy in time, nothing to wait on
		}
	}
}

func savePNG(f *display.Frame, path string) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(file, f.RGBA()); err != nil {
		file.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return file.Close()
}

// qmpScreendump saves the VM's display as a PPM file at path through the
// QMP monitor at socket: greeting, qmp_capabilities, screendump, each
// answered by a "return" (events in between are skipped) or an "error".
func qmpScreendump(ctx context.Context, socket, path string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return fmt.Errorf("QMP monitor %s: %w", socket, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	dec := json.NewDecoder(bufio.NewReader(conn))
	var greeting map[string]json.RawMessage
	if err := dec.Decode(&greeting); err != nil {
		return fmt.Errorf("QMP monitor %s: no greeting: %w", socket, err)
	}
	if _, ok := greeting["QMP"]; !ok {
		return fmt.Errorf("QMP monitor %s: greeting is not QMP's", socket)
	}
	enc := json.NewEncoder(conn)
	for _, cmd := range []map[string]any{
		{"execute": "qmp_capabilities"},
		{"execute": "screendump", "arguments": map[string]any{"filename": path}},
	} {
		if err := enc.Encode(cmd); err != nil {
			return fmt.Errorf("QMP monitor %s: %s: %w", socket, cmd["execute"], err)
		}
		for {
			var reply struct {
				Return json.RawMessage `json:"return"`
				Error  *struct {
					Class string `json:"class"`
					Desc  string `json:"desc"`
				} `json:"error"`
			}
			if err := dec.Decode(&reply); err != nil {
				return fmt.Errorf("QMP monitor %s: %s: %w", socket, cmd["execute"], err)
			}
			if reply.Error != nil {
				return fmt.Errorf("QMP monitor %s: %s: %s: %s", socket, cmd["execute"], reply.Error.Class, reply.Error.Desc)
			}
			if reply.Return != nil {
				break
			}
		}
	}
	return nil
}

// readPPM reads a binary PPM (P6, maxval 255, as qemu's screendump writes)
// into an XRGB8888 frame.
func readPPM(path string) (*display.Frame, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return decodePPM(bufio.NewReader(file))
}

func decodePPM(r *bufio.Reader) (*display.Frame, error) {
	var fields [4]int
	magic, err := ppmToken(r)
	if err != nil {
		return nil, fmt.Errorf("PPM header: %w", err)
	}
	if magic != "P6" {
		return nil, fmt.Errorf("PPM: starts with %q, want P6 (binary RGB)", magic)
	}
	for i := 1; i < 4; i++ {
		tok, err := ppmToken(r)
		if err != nil {
			return nil, fmt.Errorf("PPM header: %w", err)
		}
		if fields[i], err = strconv.Atoi(tok); err != nil || fields[i] <= 0 {
			return nil, fmt.Errorf("PPM header: %q is not a positive number", tok)
		}
	}
	width, height, maxval := fields[1], fields[2], fields[3]
	if maxval != 255 {
		return nil, fmt.Errorf("PPM: maxval %d, want 255", maxval)
	}
	if width > 8192 || height > 8192 {
		return nil, fmt.Errorf("PPM: %dx%d is larger than any screen here", width, height)
	}
	// ppmToken has read the one whitespace byte after maxval.
	rgb := make([]byte, 3*width)
	f := display.NewFrame(width, height)
	for y := range height {
		if _, err := io.ReadFull(r, rgb); err != nil {
			return nil, fmt.Errorf("PPM: row %d of %d: %w", y, height, err)
		}
		row := f.Pix[y*f.Stride:]
		for x := range width {
			row[4*x], row[4*x+1], row[4*x+2] = rgb[3*x+2], rgb[3*x+1], rgb[3*x]
		}
	}
	return f, nil
}

// ppmToken reads one header token, skipping whitespace and # comments
// before it, and consumes the one whitespace byte after it.
func ppmToken(r *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '#' && len(tok) == 0:
			if _, err := r.ReadString('\n'); err != nil {
				return "", err
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if len(tok) > 0 {
				return string(tok), nil
			}
		default:
			if len(tok) >= 16 {
				return "", fmt.Errorf("token %q... is too long", tok)
			}
			tok = append(tok, c)
		}
	}
}
