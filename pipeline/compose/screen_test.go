package compose

import (
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/avcodec"
	"github.com/callbox/callbox/pipeline/pipelinetest"
)

func softwareDecoder(_ string, c media.Codec) (media.VideoDecoder, error) {
	return avcodec.NewVideoDecoder(string(c))
}

func TestScreenShowsDecodedVideoAndPlaceholders(t *testing.T) {
	h264 := pipelinetest.EncodedPattern(t, media.CodecH264, 320, 180, 10)
	vp8 := pipelinetest.EncodedPattern(t, media.CodecVP8, 320, 180, 10)
	garbage := make([]byte, 3000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name   string
		codec  string
		frames [][]byte
		shows  string // "picture" or the placeholder's words
	}{
		{"h264", "H264", h264, "picture"},
		{"vp8", "VP8", vp8, "picture"},
		{"unknown codec", "AV1", h264[:3], "cannot show AV1 video"},
		{"starts mid-GOP", "H264", h264[3:6], "picture-or-placeholder"},
		{"corrupt packet", "H264", [][]byte{garbage}, "waiting for video"},
		{"corrupt then keyframe", "H264", append([][]byte{garbage}, h264[:4]...), "picture"},
		{"no video", "", nil, "no video"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := display.NewOffscreen(display.OffscreenOptions{Width: 640, Height: 360})
			if err != nil {
				t.Fatal(err)
			}
			var layout Layout
			s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder, OnDrawn: func(_ *display.Frame, l Layout) { layout = l }})
			defer s.Close()
			s.SetMembers([]Member{{Identity: "p", Name: "P", VideoCodec: tt.codec}})
			for _, f := range tt.frames {
				s.Video("p", media.Codec(tt.codec), f)
			}
			if err := s.DrawOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			frame, _ := r.Snapshot()
			tile, ok := layout.Tile("p")
			if !ok {
				t.Fatal("no tile")
			}
			inner := Fit(image.Pt(320, 180), tile.Rect)
			stamp, stampErr := ReadTileStamp(frame, inner, image.Pt(320, 180))
			placeholder := Count(frame, tile.Rect, colorPlaceholder) > 50
			switch tt.shows {
			case "picture":
				if stampErr != nil || placeholder {
					t.Errorf("want the picture; stamp error %v, placeholder %v", stampErr, placeholder)
				} else if want := uint32(len(tt.frames) - 1); tt.name != "corrupt then keyframe" && stamp.Frame != want {
					t.Errorf("shows frame %d, want %d", stamp.Frame, want)
				}
			case "picture-or-placeholder":
				// A decoder may conceal the missing reference or refuse; either way no crash and no wrong stamp.
				if stampErr == nil && stamp.Frame != 5 {
					t.Errorf("shows frame %d, want 5 or a placeholder", stamp.Frame)
				}
				if stampErr != nil && !placeholder {
					t.Errorf("neither a readable picture nor a placeholder")
				}
			default:
				if !placeholder {
					t.Errorf("want a placeholder saying %q", tt.shows)
				}
				s.mu.Lock()
				got := s.sceneLocked(time.Now()).Participants[0].Problem
				s.mu.Unlock()
				if tt.shows != "placeholder" && got != tt.shows {
					t.Errorf("placeholder says %q, want %q", got, tt.shows)
				}
				if tt.shows == "placeholder" && !strings.Contains(got, "damaged") {
					t.Errorf("placeholder says %q, want it to say the video is damaged", got)
				}
			}
		})
	}
}

// A participant who leaves loses their tile at the next frame.
func TestScreenDropsLeavers(t *testing.T) {
	r, _ := display.NewOffscreen(display.OffscreenOptions{Width: 640, Height: 360})
	var layout Layout
	sizes := map[string]image.Point{}
	s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder,
		OnDrawn:     func(_ *display.Frame, l Layout) { layout = l },
		OnTileSizes: func(m map[string]image.Point) { sizes = m }})
	defer s.Close()
	s.SetMembers([]Member{{Identity: "a", VideoCodec: "H264"}, {Identity: "b", VideoCodec: "H264"}})
	if err := s.DrawOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(layout.Tiles) != 2 || len(sizes) != 2 {
		t.Fatalf("%d tiles, %d sizes told, want 2", len(layout.Tiles), len(sizes))
	}
	s.SetMembers([]Member{{Identity: "b", VideoCodec: "H264"}})
	if err := s.DrawOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := layout.Tile("a"); ok || len(layout.Tiles) != 1 {
		t.Errorf("a left but still has a tile: %+v", layout.Tiles)
	}
	if _, ok := sizes["a"]; ok {
		t.Errorf("the call still asked for a's video at %v", sizes["a"])
	}
}

// TestScreenTellsWhoHasNoTile: of ten participants the tenth has no tile;
// the call is told its size is zero (its video paused at the server), and
// the tile's size once it has one.
func TestScreenTellsWhoHasNoTile(t *testing.T) {
	r, _ := display.NewOffscreen(display.OffscreenOptions{Width: 1280, Height: 720})
	var sizes map[string]image.Point
	s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder, OnTileSizes: func(m map[string]image.Point) { sizes = m }})
	defer s.Close()
	var members []Member
	for i := range MaxTiles + 1 {
		members = append(members, Member{Identity: fmt.Sprintf("p%d", i+1), VideoCodec: "H264"})
	}
	s.SetMembers(members)
	if err := s.DrawOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != MaxTiles+1 || sizes["p10"] != (image.Point{}) || sizes["p9"].X == 0 {
		t.Fatalf("sizes told %v; want p1 to p9 with their tiles' sizes and p10 zero", sizes)
	}
	s.SetSpeaker("p10") // the speaker always has a tile: another gives up theirs
	if err := s.DrawOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sizes["p10"].X == 0 || sizes["p9"] != (image.Point{}) {
		t.Errorf("after p10 speaks, sizes told %v; want p10 with a tile and p9 zero", sizes)
	}
}

// TestScreenHoldsThePictureUntilAKeyframe: a frame that does not decode
// leaves the last good picture on the screen, asks for a keyframe, and
// the frames after it are skipped (they would decode damaged) until the
// keyframe comes.
func TestScreenHoldsThePictureUntilAKeyframe(t *testing.T) {
	frames := pipelinetest.EncodedPatternKeyframes(t, media.CodecH264, 320, 180, 10, 8)
	r, err := display.NewOffscreen(display.OffscreenOptions{Width: 640, Height: 360})
	if err != nil {
		t.Fatal(err)
	}
	var layout Layout
	damaged := 0
	s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder, OnDrawn: func(_ *display.Frame, l Layout) { layout = l },
		OnDamaged: func(string) { damaged++ }})
	defer s.Close()
	s.SetMembers([]Member{{Identity: "p", Name: "P", VideoCodec: "H264"}})
	shown := func() (uint32, error) {
		t.Helper()
		if err := s.DrawOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		frame, _ := r.Snapshot()
		tile, _ := layout.Tile("p")
		stamp, err := ReadTileStamp(frame, Fit(image.Pt(320, 180), tile.Rect), image.Pt(320, 180))
		return stamp.Frame, err
	}
	// Frames 0 to 3; frame 4 lost and a broken one in its place; 5 to 7
	// refer to it; 8 is a keyframe, then 9.
	broken := append([]byte(nil), frames[4][:len(frames[4])/3]...)
	for i, f := range append(append(frames[:4:4], broken), frames[5:]...) {
		s.Video("p", media.CodecH264, f)
		got, err := shown()
		want := map[bool]uint32{true: 3, false: uint32(i)}[i >= 4 && i < 8]
		if err != nil || got != want {
			t.Errorf("after frame %d the screen shows frame %d (%v), want %d", i, got, err, want)
		}
	}
	if damaged == 0 {
		t.Error("nobody was told the video stopped decoding")
	}
	// Shown counts the pictures people saw: 0 to 3, then 8 and 9.
	if n := s.Shown("p"); n != 6 {
		t.Errorf("Shown says %d pictures, want 6 (frames 0-3, 8, 9)", n)
	}
	if n := s.Freezes(); n != 1 {
		t.Errorf("the screen counts %d freezes, want the one", n)
	}
}

// countingDecoder counts how many decoders were made and closed.
type countingDecoder struct {
	media.VideoDecoder
	closed *atomic.Int32
}

func (d countingDecoder) Close() error { d.closed.Add(1); return d.VideoDecoder.Close() }

// Frames that keep coming while their sender leaves and the screen closes
// (the call's goroutines stop after the screen) leave no decoder open.
func TestScreenClosesEveryDecoder(t *testing.T) {
	frames := pipelinetest.EncodedPattern(t, media.CodecH264, 160, 96, 5)
	var opened, closed atomic.Int32
	r, _ := display.NewOffscreen(display.OffscreenOptions{Width: 320, Height: 180})
	s := NewScreen(r, ScreenOptions{NewDecoder: func(_ string, c media.Codec) (media.VideoDecoder, error) {
		dec, err := softwareDecoder("", c)
		if err != nil {
			return nil, err
		}
		opened.Add(1)
		return countingDecoder{dec, &closed}, nil
	}})
	s.SetMembers([]Member{{Identity: "a", VideoCodec: "H264"}, {Identity: "b", VideoCodec: "H264"}})
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b"} {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				s.Video(id, media.CodecH264, frames[i%len(frames)])
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	s.SetMembers([]Member{{Identity: "b", VideoCodec: "H264"}}) // a leaves while sending
	s.Close()
	wg.Wait()
	s.Video("b", media.CodecH264, frames[0]) // late, after Close
	if opened.Load() == 0 || opened.Load() != closed.Load() {
		t.Errorf("%d decoders made, %d closed", opened.Load(), closed.Load())
	}
}

// A held picture follows its sound's delay as it changes: when the sound
// is put back (the jitter buffer grew), the picture waits longer too
// rather than coming before its sound.
func TestScreenHeldPictureFollowsTheSound(t *testing.T) {
	frames := pipelinetest.EncodedPattern(t, media.CodecH264, 320, 180, 1)
	r, err := display.NewOffscreen(display.OffscreenOptions{Width: 640, Height: 360})
	if err != nil {
		t.Fatal(err)
	}
	var layout Layout
	var soundDelay atomic.Int64 // from capture to the sound's playing
	soundDelay.Store(int64(150 * time.Millisecond))
	s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder, FPS: 30,
		OnDrawn: func(_ *display.Frame, l Layout) { layout = l },
		ShowAt: func(_ string, captured time.Time) (time.Time, bool) {
			return captured.Add(time.Duration(soundDelay.Load())), true
		}})
	defer s.Close()
	s.SetMembers([]Member{{Identity: "p", Name: "P", VideoCodec: "H264"}})
	shown := func() bool {
		t.Helper()
		if err := s.DrawOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		frame, _ := r.Snapshot()
		tile, _ := layout.Tile("p")
		_, err := ReadTileStamp(frame, Fit(image.Pt(320, 180), tile.Rect), image.Pt(320, 180))
		return err == nil
	}
	captured := time.Now()
	s.VideoAt("p", media.CodecH264, frames[0], captured)
	if shown() {
		t.Fatal("the picture was shown before its sound")
	}
	soundDelay.Store(int64(500 * time.Millisecond)) // the sound is put back
	time.Sleep(time.Until(captured.Add(250 * time.Millisecond)))
	if shown() {
		t.Error("the picture was shown at the sound's old time, 250 ms before its sound")
	}
	time.Sleep(time.Until(captured.Add(550 * time.Millisecond)))
	if !shown() {
		t.Error("the picture was not shown once its sound played")
	}
}

// TestScreenShowsContentLarge: a participant's shared content is drawn
// large at its own size (its stamps readable) beside the people; the
// latest share is the one shown; when the shares end the grid comes back.
func TestScreenShowsContentLarge(t *testing.T) {
	r, err := display.NewOffscreen(display.OffscreenOptions{Width: 1920, Height: 1080})
	if err != nil {
		t.Fatal(err)
	}
	var layout Layout
	s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder, OnDrawn: func(_ *display.Frame, l Layout) { layout = l }})
	defer s.Close()
	camera := pipelinetest.EncodedPattern(t, media.CodecH264, 320, 180, 1)
	content := pipelinetest.EncodedPattern(t, media.CodecH264, 1280, 720, 4)
	people := []Member{{Identity: "a", VideoCodec: "H264"}, {Identity: "b", VideoCodec: "H264"}}
	draw := func(members []Member, frames map[string][]byte) *display.Frame {
		t.Helper()
		s.SetMembers(members)
		for key, f := range frames {
			s.Video(key, media.CodecH264, f)
		}
		if err := s.DrawOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		frame, _ := r.Snapshot()
		return frame
	}
	readContent := func(frame *display.Frame) (uint32, error) {
		t.Helper()
		at := FitContent(image.Pt(1280, 720), layout.Content)
		if at.Size() != image.Pt(1280, 720) {
			t.Fatalf("content drawn at %v, want its own 1280x720", at)
		}
		stamp, err := ReadTileStamp(frame, at, image.Pt(1280, 720))
		return stamp.Frame, err
	}
	draw(people, map[string][]byte{"a": camera[0], "b": camera[0]})
	if !layout.Content.Empty() || len(layout.Tiles) != 2 {
		t.Fatalf("nobody shares: content at %v, %d tiles; want the grid", layout.Content, len(layout.Tiles))
	}

	aShares := slices.Clone(people)
	aShares[0].ContentCodec = "H264"
	frame := draw(aShares, map[string][]byte{ContentKey("a"): content[0]})
	if layout.Content.Empty() || len(layout.Tiles) != 2 {
		t.Fatalf("a shares: content at %v, %d tiles; want content and the two in the strip", layout.Content, len(layout.Tiles))
	}
	if got, err := readContent(frame); err != nil || got != 0 {
		t.Fatalf("a's content shows frame %d (%v), want 0", got, err)
	}
	for _, tile := range layout.Tiles {
		if _, err := ReadTileStamp(frame, Fit(image.Pt(320, 180), tile.Rect), image.Pt(320, 180)); err != nil {
			t.Errorf("%s's camera in the strip: %v", tile.Identity, err)
		}
	}

	bothShare := slices.Clone(aShares)
	bothShare[1].ContentCodec = "H264"
	s.Video(ContentKey("a"), media.CodecH264, content[1]) // a's goes on, but b shared last
	frame = draw(bothShare, map[string][]byte{ContentKey("b"): content[0]})
	if got, err := readContent(frame); err != nil || got != 0 {
		t.Fatalf("b shared last: content shows frame %d (%v), want b's frame 0", got, err)
	}
	// A button picks the other share, and again the first.
	for _, want := range []struct {
		who   string
		frame uint32
	}{{"a", 1}, {"b", 0}} {
		if who, ok := s.ShowOtherShare(); !ok || who != want.who {
			t.Fatalf("the other share: %q, %v; want %s's", who, ok, want.who)
		}
		if got, err := readContent(draw(bothShare, nil)); err != nil || got != want.frame {
			t.Fatalf("the other share, %s's: content shows frame %d (%v), want %d", want.who, got, err, want.frame)
		}
	}
	frame = draw(aShares, map[string][]byte{ContentKey("a"): content[2]})
	if got, err := readContent(frame); err != nil || got != 2 {
		t.Fatalf("b stopped: content shows frame %d (%v), want a's frame 2", got, err)
	}

	if who, ok := s.ShowOtherShare(); ok {
		t.Errorf("one share, yet the other share is %q", who)
	}

	draw(people, nil)
	if !layout.Content.Empty() || len(layout.Tiles) != 2 {
		t.Errorf("shares ended: content at %v, %d tiles; want the grid back", layout.Content, len(layout.Tiles))
	}
	s.mu.Lock()
	_, kept := s.remote[ContentKey("a")]
	s.mu.Unlock()
	if kept {
		t.Errorf("a's content decoder is kept after the share ended")
	}
}
