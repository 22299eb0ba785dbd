package main

// Simulcast through a real LiveKit server: callboxd sends 720p, 360p and
// 180p, end-to-end encrypted; a receiver that asks for the low layer gets
// 320x180 pictures, one that asks for the high layer 1280x720, and both
// read the frame numbers the camera drew.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/avcodec"
)

// sizedPicture is one picture a receiver decoded: its size and stamp.
type sizedPicture struct {
	size  string // "1280x720"
	frame uint32
}

// layerReceiver decodes what one participant receives of the box's video:
// its camera, or with content its shared content.
type layerReceiver struct {
	content  bool
	mu       sync.Mutex
	dec      *avcodec.VideoDecoder
	pictures []sizedPicture // with a readable stamp only
	changed  chan struct{}
	watcher  *call.Watcher
}

func receiveLayers(t *testing.T, srv *lkserver.Server, room, identity string, key *call.RoomKey) *layerReceiver {
	t.Helper()
	return receiveVideo(t, srv, room, identity, key, false)
}

// receiveVideo is receiveLayers of the box's camera, or with content of
// its shared content.
func receiveVideo(t *testing.T, srv *lkserver.Server, room, identity string, key *call.RoomKey, content bool) *layerReceiver {
	t.Helper()
	dec, err := avcodec.NewVideoDecoder(string(media.CodecH264))
	if err != nil {
		t.Fatal(err)
	}
	r := &layerReceiver{content: content, dec: dec, changed: make(chan struct{})}
	r.watcher, err = call.Watch(call.Options{
		URL: srv.URL, Room: room, Identity: identity, APIKey: srv.APIKey, APISecret: srv.APISecret, RoomKey: key,
	}, call.Handlers{Video: r.onVideo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.watcher.Leave()
		r.mu.Lock()
		r.dec.Close()
		r.dec = nil
		r.mu.Unlock()
	})
	return r
}

func (r *layerReceiver) onVideo(f call.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dec == nil || f.Content != r.content {
		return
	}
	pic, err := r.dec.Decode(f.Data)
	if err != nil || pic == nil {
		return
	}
	s, err := camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy())
	if err != nil {
		return
	}
	r.pictures = append(r.pictures, sizedPicture{size: fmt.Sprintf("%dx%d", pic.Rect.Dx(), pic.Rect.Dy()), frame: s.Frame})
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitSize waits until n pictures of size have arrived since picture from,
// and returns their frame numbers.
func (r *layerReceiver) waitSize(ctx context.Context, from int, size string, n int) ([]uint32, error) {
	for {
		r.mu.Lock()
		var frames []uint32
		sizes := map[string]int{}
		for _, p := range r.pictures[min(from, len(r.pictures)):] {
			sizes[p.size]++
			if p.size == size {
				frames = append(frames, p.frame)
			}
		}
		changed := r.changed
		r.mu.Unlock()
		if len(frames) >= n {
			return frames, nil
		}
		select {
		case <-ctx.Done():
			return frames, fmt.Errorf("%d of %d pictures of %s arrived (sizes seen: %v): %w", len(frames), n, size, sizes, ctx.Err())
		case <-changed:
		}
	}
}

func (r *layerReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pictures)
}

func TestSimulcastEachReceiverGetsItsLayer(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const room = "simulcast"
	key, err := call.NewRoomKey(testRoomKey)
	if err != nil {
		t.Fatal(err)
	}
	// The room key goes in the file: there is no flag for a secret.
	cfgPath := filepath.Join(t.TempDir(), "callbox.toml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("[call]\nencryption = \"shared-key\"\nroom_key = %q\n[video]\nsimulcast = true\n", testRoomKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	low := receiveLayers(t, srv, room, "small-screen", key)
	high := receiveLayers(t, srv, room, "big-screen", key)
	d := startDaemon(t, append([]string{"-config", cfgPath}, append(serverArgs(srv, room),
		"-width", "1280", "-height", "720", "-fps", "15", "-bitrate", "1200")...)...)
	d.waitLog(t, "in the call", 30*time.Second)
	d.waitLog(t, "sending video as simulcast", 10*time.Second)

	// The first pictures may be any layer: the SFU picks one until asked.
	for _, r := range []*layerReceiver{low, high} {
		if err := waitPictures(ctx, r, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		r       *layerReceiver
		quality livekit.VideoQuality
	}{{low, livekit.VideoQuality_LOW}, {high, livekit.VideoQuality_HIGH}} {
		if n := tc.r.watcher.SetVideoQuality(tc.quality); n != 1 {
			t.Fatalf("asked for %s on %d videos, want the box's one", tc.quality, n)
		}
	}
	from := map[*layerReceiver]int{low: low.count(), high: high.count()}
	for _, tc := range []struct {
		name string
		r    *layerReceiver
		size string
	}{{"low", low, "320x180"}, {"high", high, "1280x720"}} {
		frames, err := tc.r.waitSize(ctx, from[tc.r], tc.size, 30)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.IsSorted(frames) || frames[0] == frames[len(frames)-1] {
			t.Errorf("%s: frame numbers %v, want increasing", tc.name, frames)
		}
		t.Logf("%s: %d pictures of %s, frames %d to %d", tc.name, len(frames), tc.size, frames[0], frames[len(frames)-1])
	}
	d.stop(t)
	if out := d.output(); !strings.Contains(out, "1280x720, 640x360, 320x180") {
		t.Errorf("callboxd did not log the three layers it sends:\n%s", out)
	}
}

func waitPictures(ctx context.Context, r *layerReceiver, n int) error {
	for {
		r.mu.Lock()
		got, changed := len(r.pictures), r.changed
		r.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d pictures arrived: %w", got, n, ctx.Err())
		case <-changed:
		}
	}
}
