package call

// Simulcast: the camera published as one track with two or three layers
// (e.g. 720p, 360p, 180p), each its own RTP stream, so the SFU can forward
// to each receiver the layer its screen and network want. Each layer has
// its own frame encryptor, keyframe requests and bitrate (congestion.go
// shares the network's estimate among them).

import (
	"fmt"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"

	"github.com/callbox/callbox/media"
)

// VideoLayer is one simulcast layer the box sends.
type VideoLayer struct {
	Width, Height int
	MaxBitrate    int // bits per second
}

// layerQualities names the layers as livekit-client does, from the
// smallest up: two layers are LOW and MEDIUM, three LOW, MEDIUM and HIGH.
var layerQualities = []livekit.VideoQuality{livekit.VideoQuality_LOW, livekit.VideoQuality_MEDIUM, livekit.VideoQuality_HIGH}

// publishSimulcastVideo publishes the camera as one track of
// len(opts.Simulcast) layers (largest first) and returns the tracks in
// that order.
func (s *Session) publishSimulcastVideo(room *lksdk.Room) ([]*lksdk.LocalTrack, *lksdk.LocalTrackPublication, error) {
	layers := s.opts.Simulcast
	if len(layers) > len(layerQualities) {
		return nil, nil, fmt.Errorf("simulcast: %d layers, at most %d", len(layers), len(layerQualities))
	}
	tracks := make([]*lksdk.LocalTrack, len(layers))
	var encryption livekit.Encryption_Type
	for i, l := range layers {
		quality := layerQualities[len(layers)-1-i]
		// A frame encryptor per layer: each is its own stream of frames.
		opts, enc, err := publishOptions(s.mediaKeys(), s.opts.VideoCodec)
		if err != nil {
			return nil, nil, fmt.Errorf("video layer %dx%d: %w", l.Width, l.Height, err)
		}
		encryption = enc
		layer := i
		opts = append(opts,
			lksdk.WithSimulcast("camera", &livekit.VideoLayer{Quality: quality, Width: uint32(l.Width), Height: uint32(l.Height)}),
			lksdk.WithRTCPHandler(func(p rtcp.Packet) { s.onVideoRTCP(layer, p) }))
		track, err := lksdk.NewLocalTrack(videoCapability(s.opts.VideoCodec), opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("video layer %dx%d: %w", l.Width, l.Height, err)
		}
		tracks[i] = track
	}
	pub, err := room.LocalParticipant.PublishSimulcastTrack(tracks, &lksdk.TrackPublicationOptions{
		Name: "camera", Source: livekit.TrackSource_CAMERA,
		VideoWidth: layers[0].Width, VideoHeight: layers[0].Height, Encryption: encryption,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("publish video (simulcast, %d layers): %w", len(layers), err)
	}
	s.log.Info("sending video as simulcast", "layers", layerSizes(layers))
	return tracks, pub, nil
}

func layerSizes(layers []VideoLayer) string {
	out := ""
	for i, l := range layers {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%dx%d", l.Width, l.Height)
	}
	return out
}

// WriteVideoLayer sends one coded picture of simulcast layer layer (0 is
// the largest); without simulcast, layer 0 is the one video track. Outside
// a call, while the camera is off, or for a layer not published, it is
// dropped.
func (s *Session) WriteVideoLayer(layer int, f media.EncodedFrame) error {
	if s.state.get().CameraOff {
		return nil
	}
	s.mu.Lock()
	var track *lksdk.LocalTrack
	switch {
	case layer >= 0 && layer < len(s.layers):
		track = s.layers[layer]
	case layer == 0 && len(s.layers) == 0:
		track = s.video
	}
	s.mu.Unlock()
	if layer == 0 {
		return s.writeVideoSample(track, f)
	}
	return s.writeSample(track, f)
}

// SetVideoQuality asks the SFU to forward, of every simulcast video the
// watcher receives now, the layer of quality q (or the best below it).
// It returns how many videos it asked for.
func (w *Watcher) SetVideoQuality(q livekit.VideoQuality) int {
	asked := 0
	for _, rp := range w.room.GetRemoteParticipants() {
		for _, pub := range rp.TrackPublications() {
			if rpub, ok := pub.(*lksdk.RemoteTrackPublication); ok && rpub.Kind() == lksdk.TrackKindVideo {
				if rpub.SetVideoQuality(q) == nil {
					asked++
				}
			}
		}
	}
	return asked
}
