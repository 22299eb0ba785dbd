package call

// Shared content: what the box's content input (an HDMI input) shows,
// published as a SCREEN_SHARE track beside the camera, with simulcast
// layers when asked (a phone gets a smaller copy). It is published while
// ShareContent is in force, in every join, and end-to-end encrypted as
// every track is. Its bitrate is its own: the camera's congestion control
// does not move it.

import (
	"errors"
	"fmt"
	"sync"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/callbox/callbox/media"
)

// ContentTrack is the shared content the call carries.
type ContentTrack struct {
	Width, Height int
	// Layers, two or three (largest first), publish it as simulcast; else
	// it is one track of Width x Height.
	Layers []VideoLayer
	// Encoder is asked for keyframes; layer i is Layers[i], or 0.
	Encoder Encoder
}

// contentShare is the content track's state; mu serialises publishing
// and unpublishing (which wait for the server), the session's mu guards
// tracks for the writers.
type contentShare struct {
	mu   sync.Mutex
	want *ContentTrack // nil: no share; guarded by mu
	// keyframes answers receivers' requests, with limits and follow-ups
	// of its own: the camera's layers are other streams.
	keyframes keyframes
	room      *lksdk.Room // the room the box sends in; nil outside a call
	pub       *lksdk.LocalTrackPublication
	// shares counts the publications, for each its own simulcast ID
	// (the tracks' ID): a new share in the same connection under the
	// last one's ID would be taken for it.
	shares int
}

// ShareContent publishes content as a SCREEN_SHARE track now if the box
// sends in a call, and in every join after, until StopContent; a track
// shared before is replaced.
func (s *Session) ShareContent(ct ContentTrack) error {
	if ct.Encoder == nil {
		ct.Encoder = noEncoder{}
	}
	c := &s.content
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = &ct
	s.unpublishContent()
	if c.room == nil {
		return nil
	}
	return s.publishContent()
}

// StopContent ends the content share.
func (s *Session) StopContent() {
	c := &s.content
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = nil
	s.unpublishContent()
}

// contentJoined publishes the content, if shared, in room, where the box
// has just published its camera. A failure is said, and the call goes on
// without it.
func (s *Session) contentJoined(room *lksdk.Room) {
	c := &s.content
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room = room
	c.keyframes.start()
	if c.want != nil {
		if err := s.publishContent(); err != nil {
			s.log.Warn("the shared content is not sent", "err", err)
		}
	}
}

// contentLeft forgets the room the content was published in.
func (s *Session) contentLeft() {
	c := &s.content
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room, c.pub = nil, nil
	c.keyframes.stop()
	s.mu.Lock()
	s.contentTracks = nil
	s.mu.Unlock()
}

// publishContent publishes c.want in c.room; c.mu is held.
func (s *Session) publishContent() error {
	c := &s.content
	ct := *c.want
	layers := ct.Layers
	if len(layers) < 2 {
		layers = []VideoLayer{{Width: ct.Width, Height: ct.Height}}
	}
	if len(layers) > len(layerQualities) {
		return fmt.Errorf("content: %d layers, at most %d", len(layers), len(layerQualities))
	}
	tracks := make([]*lksdk.LocalTrack, len(layers))
	var encryption livekit.Encryption_Type
	c.shares++
	simulcastID := fmt.Sprintf("content-%d", c.shares)
	for i, l := range layers {
		opts, enc, err := publishOptions(s.mediaKeys(), s.opts.VideoCodec)
		if err != nil {
			return fmt.Errorf("content track %dx%d: %w", l.Width, l.Height, err)
		}
		encryption = enc
		layer := i
		opts = append(opts, lksdk.WithRTCPHandler(func(p rtcp.Packet) { s.onContentRTCP(ct.Encoder, layer, p) }))
		if len(layers) > 1 {
			quality := layerQualities[len(layers)-1-i]
			opts = append(opts, lksdk.WithSimulcast(simulcastID, &livekit.VideoLayer{Quality: quality, Width: uint32(l.Width), Height: uint32(l.Height)}))
			tracks[i], err = lksdk.NewLocalTrack(videoCapability(s.opts.VideoCodec), opts...)
		} else {
			tracks[i], err = lksdk.NewLocalSampleTrack(videoCapability(s.opts.VideoCodec), opts...)
		}
		if err != nil {
			return fmt.Errorf("content track %dx%d: %w", l.Width, l.Height, err)
		}
	}
	pubOpts := &lksdk.TrackPublicationOptions{Name: "content", Source: livekit.TrackSource_SCREEN_SHARE,
		VideoWidth: ct.Width, VideoHeight: ct.Height, Encryption: encryption}
	var pub *lksdk.LocalTrackPublication
	var err error
	if len(tracks) > 1 {
		pub, err = c.room.LocalParticipant.PublishSimulcastTrack(tracks, pubOpts)
	} else {
		pub, err = c.room.LocalParticipant.PublishTrack(tracks[0], pubOpts)
	}
	if err != nil {
		return fmt.Errorf("publish content: %w", err)
	}
	c.pub = pub
	s.mu.Lock()
	s.contentTracks = tracks
	s.mu.Unlock()
	for i := range tracks {
		ct.Encoder.ForceLayerKeyFrame(i) // the first picture anyone sees must be decodable
	}
	s.log.Info("publishing the shared content", "size", fmt.Sprintf("%dx%d", ct.Width, ct.Height), "layers", layerSizes(layers))
	return nil
}

// unpublishContent takes the content track out of the call; c.mu is held.
func (s *Session) unpublishContent() {
	c := &s.content
	s.mu.Lock()
	tracks := s.contentTracks
	s.contentTracks = nil
	s.mu.Unlock()
	if c.pub == nil || c.room == nil {
		return
	}
	if err := retireSenders(c.room.LocalParticipant.GetPublisherPeerConnection(), tracks); err != nil {
		s.log.Warn("the shared content's senders did not stop cleanly", "err", err)
	}
	if err := c.room.LocalParticipant.UnpublishTrack(c.pub.SID()); err != nil {
		s.log.Warn("the shared content's track did not end cleanly", "err", err)
	}
	c.pub = nil
	s.log.Info("content share ended")
}

// retireSenders stops the RTP senders of tracks, before their publication
// is unpublished, so that the next share gets a transceiver of its own.
//
// The SDK's unpublish removes the tracks (pion's RemoveTrack), which frees
// their transceiver, and the next share's AddTrack takes it again. pion's
// offer for a transceiver taken again after simulcast carries the
// server's last answer's "a=simulcast:recv" before its own
// "a=simulcast:send"; LiveKit reads only the first, finds no layers, and
// takes every layer of the new track for its lowest: each receiver gets
// whichever layer arrived first, whatever it asks for. A stopped sender
// stays on its transceiver (without a track: the SDK's unpublish finds
// nothing of its publication to remove), and pion reuses no transceiver
// that has a sender: the next share gets an m-line of its own. The old
// m-line, without a track, ends the track at the server as an unpublish
// does.
func retireSenders(pc *webrtc.PeerConnection, tracks []*lksdk.LocalTrack) error {
	if pc == nil {
		return nil
	}
	var errs []error
	for _, sender := range pc.GetSenders() {
		for _, t := range tracks {
			if sender.Track() == webrtc.TrackLocal(t) {
				if err := sender.Stop(); err != nil {
					errs = append(errs, fmt.Errorf("content track %s: %w", t.RID(), err))
				}
				break
			}
		}
	}
	return errors.Join(errs...)
}

// onContentRTCP passes a receiver's keyframe request for the content to
// its encoder (keyframe.go); any report says the server hears the box.
func (s *Session) onContentRTCP(enc Encoder, layer int, p rtcp.Packet) {
	s.heardFromServer()
	switch p.(type) {
	case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
		s.content.keyframes.request(enc, layer)
	}
}

// WriteContentLayer sends one coded picture of the shared content's
// layer (0 the largest, the only one without simulcast); without a share,
// or outside a call, it is dropped.
func (s *Session) WriteContentLayer(layer int, f media.EncodedFrame) error {
	s.mu.Lock()
	var track *lksdk.LocalTrack
	if layer >= 0 && layer < len(s.contentTracks) {
		track = s.contentTracks[layer]
	}
	s.mu.Unlock()
	return s.writeSample(track, f)
}
