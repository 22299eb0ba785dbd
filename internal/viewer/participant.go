package viewer

import (
	"context"
	"errors"
	"sync"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// participant is a call.Session that sends as well as receives: the
// box's own way into a call and back into it after a drop (with
// call.Options.OtherURLs, through another server of a cluster).
type participant struct {
	session *call.Session
	cancel  context.CancelFunc
	running sync.WaitGroup // the session and its senders
}

// StartParticipant joins as a participant that sends the test pattern
// (stamped, opts.Width x opts.Height at 30 fps, H.264) and a 440 Hz tone,
// and collects what it receives as Start's viewer does. It gets back into
// the call by itself as the box does. Leave leaves.
func StartParticipant(opts call.Options, check Check) (*Viewer, error) {
	if opts.Width == 0 || opts.Height == 0 {
		return nil, errors.New("viewer: StartParticipant: opts.Width and opts.Height say the size it sends")
	}
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: opts.Width, Height: opts.Height, FPS: 30})
	if err != nil {
		return nil, err
	}
	tone, err := audio.NewTone(audio.ToneOptions{Frequency: 440, Amplitude: 0.3})
	if err != nil {
		src.Close()
		return nil, err
	}
	opus, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		src.Close()
		tone.Close()
		return nil, err
	}
	video := pipeline.NewVideoSender(pipeline.VideoSenderOptions{Codec: media.CodecH264,
		BitsPerSecond: 500_000, KeyframeInterval: 60, Mode: config.EncoderSoftware, Logger: opts.Logger})
	v := newViewer(check)
	opts.VideoCodec, opts.MaxVideoBitrate, opts.Encoder = media.CodecH264, 500_000, video
	opts.Remote.Handlers = call.Handlers{Video: v.onVideo, Audio: v.onAudio}
	ctx, cancel := context.WithCancel(context.Background())
	p := &participant{session: call.New(opts), cancel: cancel}
	// Each part closes what it sends from when it ends.
	p.running.Go(func() { _ = p.session.Run(ctx) })
	p.running.Go(func() {
		defer src.Close()
		_ = video.Send(ctx, src, p.session.WriteVideoLayer)
	})
	p.running.Go(func() {
		defer tone.Close()
		defer opus.Close()
		_ = pipeline.SendAudio(ctx, tone, opus, p.session.WriteAudio)
	})
	v.joined(p)
	return v, nil
}

// Leave leaves the call and waits until the session and its senders ended.
func (p *participant) Leave() {
	p.cancel()
	p.running.Wait()
}

func (p *participant) RequestKeyframe(identity string) { p.session.RequestKeyframe(identity) }

func (p *participant) Encryption() call.EncryptionStatus { return p.session.Encryption() }
