package compose

import (
	"fmt"
	"image"

	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/media"
)

// DecodeCompositeGrid is the receive side's work for one screen frame of
// a call with several participants: decode one coded frame of each and
// draw the grid. BenchmarkDecodeComposite1080p and make bench
// (decode_composite_ms_per_frame) measure it; with ShareContent, the first
// participant also shares content at 5 fps on the 30 fps screen (a frame
// of it decoded with every sixth screen frame), drawn large beside the
// others (content_decode_composite_ms_per_frame).
type DecodeCompositeGrid struct {
	r       *display.Offscreen
	screen  *Screen
	codec   media.Codec
	coded   [][]byte
	content [][]byte // the first participant's shared content; nil for none
	members []Member
	next    int
}

// NewDecodeCompositeGrid shows participants who all send coded (a keyframe
// first, then what follows it) on an offscreen screen of the given size.
func NewDecodeCompositeGrid(coded [][]byte, codec media.Codec, participants int, screen image.Point,
	newDecoder func(string, media.Codec) (media.VideoDecoder, error)) (*DecodeCompositeGrid, error) {
	if len(coded) == 0 || participants < 1 {
		return nil, fmt.Errorf("decode-composite grid: %d frames for %d participants", len(coded), participants)
	}
	r, err := display.NewOffscreen(display.OffscreenOptions{Width: screen.X, Height: screen.Y})
	if err != nil {
		return nil, err
	}
	g := &DecodeCompositeGrid{r: r, screen: NewScreen(r, ScreenOptions{NewDecoder: newDecoder}), codec: codec, coded: coded}
	for i := range participants {
		g.members = append(g.members, Member{Identity: fmt.Sprintf("p%d", i+1), VideoCodec: string(codec)})
	}
	g.screen.SetMembers(g.members)
	return g, nil
}

// ContentEvery is how many screen frames (30 fps) show each frame of the
// content (5 fps).
const ContentEvery = 6

// ShareContent makes the first participant share content coded as coded
// (a keyframe first; a frame for every ContentEvery of the camera's).
func (g *DecodeCompositeGrid) ShareContent(coded [][]byte) error {
	if want := (len(g.coded) + ContentEvery - 1) / ContentEvery; len(coded) != want {
		return fmt.Errorf("decode-composite grid: %d frames of content for %d of camera, want %d", len(coded), len(g.coded), want)
	}
	g.content = coded
	g.members[0].ContentCodec = string(g.codec)
	g.screen.SetMembers(g.members)
	return nil
}

// Frame decodes the next coded frame of every participant (and of the
// content) and draws the screen into the back buffer (Present, a copy or a
// page flip, is left out).
func (g *DecodeCompositeGrid) Frame() {
	if g.next == len(g.coded) { // start again at the keyframe with fresh decoders
		g.screen.SetMembers(nil)
		g.screen.SetMembers(g.members)
		g.next = 0
	}
	for _, m := range g.members {
		g.screen.Video(m.Identity, g.codec, g.coded[g.next])
	}
	if g.content != nil && g.next%ContentEvery == 0 {
		g.screen.Video(ContentKey(g.members[0].Identity), g.codec, g.content[g.next/ContentEvery])
	}
	g.next++
	s := g.screen
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.remote[g.members[0].Identity].shownAt // never stale
	s.comp.Draw(g.r.BackBuffer(), s.sceneLocked(now))
}

// Close frees the decoders.
func (g *DecodeCompositeGrid) Close() {
	g.screen.Close()
	g.screen.comp.Close()
}
