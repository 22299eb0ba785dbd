package pipeline

// The receive side's choice between the board's hardware video decoder (a
// V4L2 m2m device) and libavcodec, made for each participant: hardware
// while the device has an instance free, software for the rest, and
// software when the hardware fails mid-call.

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"strings"
	"sync"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// DecoderChoice is which decoder one participant's video runs on, and
// why, in words a status page can show.
type DecoderChoice struct {
	Hardware bool
	// Device and Card name the m2m device, when Hardware.
	Device, Card string
	Codec        media.Codec
	Reason       string
}

// String is the choice as the status page shows it: "hardware,
// /dev/video10 (bcm2835-codec-decode)" or "software"; "" for the zero
// choice (no decoder).
func (c DecoderChoice) String() string {
	switch {
	case c.Hardware:
		return fmt.Sprintf("hardware, %s (%s)", c.Device, c.Card)
	case c.Codec != "":
		return "software"
	}
	return ""
}

// VideoDecoders opens the decoders of the others' video (Open), one per
// participant, and remembers which each runs on (Choice). Safe from any
// goroutine.
type VideoDecoders struct {
	opts VideoDecodersOptions
	log  *slog.Logger
	m2m  m2mDevices

	probeOnce sync.Once
	devices   []v4l2m2m.DeviceInfo // the board's m2m devices, probed at the first Open
	probeErr  error

	mu      sync.Mutex
	choices map[string]*openDecoder // by participant; guarded by mu
	// fallbacks counts the hardware decoders that failed mid-call;
	// guarded by mu.
	fallbacks int
}

// VideoDecodersOptions say how the decoders are chosen.
type VideoDecodersOptions struct {
	// Mode: auto looks for the board's m2m decoders; software does not.
	Mode config.DecoderMode
	// Software opens a software decoder of a codec (libavcodec's).
	Software func(media.Codec) (media.VideoDecoder, error)
	// Logger gets each choice and its reasons; nil means slog.Default().
	Logger *slog.Logger
}

// NewVideoDecoders makes the decoders' chooser; nothing is probed until
// the first Open.
func NewVideoDecoders(opts VideoDecodersOptions) *VideoDecoders {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &VideoDecoders{opts: opts, log: log, m2m: boardM2M{dir: "/dev"}, choices: map[string]*openDecoder{}}
}

// Open opens a decoder for who's video of codec: in auto mode on the first
// m2m device that decodes codec and opens (a device at its limit of
// instances does not), else in software; with the hardware one, software
// takes over when it fails mid-call. It logs the choice and why.
func (v *VideoDecoders) Open(who string, codec media.Codec) (media.VideoDecoder, error) {
	choice, hw := v.openHardware(codec)
	software := func() (media.VideoDecoder, error) { return v.opts.Software(codec) }
	// who comes from the network: logged cleaned, as callboxd logs names.
	od := &openDecoder{owner: v, who: who, shown: config.CleanName(who, config.MaxRoomLength), choice: choice, codec: codec, software: software}
	if hw != nil {
		v.log.Info("video decoder: hardware", "participant", od.shown, "codec", codec, "device", choice.Device, "card", choice.Card, "why", choice.Reason)
		od.cur, od.onHardware = hw, true
	} else {
		sw, err := software()
		if err != nil {
			return nil, fmt.Errorf("software %s decoder: %w", codec, err)
		}
		v.log.Info("video decoder: software", "participant", od.shown, "codec", codec, "why", choice.Reason)
		od.cur = sw
	}
	v.mu.Lock()
	v.choices[who] = od
	v.mu.Unlock()
	return od, nil
}

// openHardware opens the first m2m decoder of codec that starts, and says
// why it did or why software decodes instead.
func (v *VideoDecoders) openHardware(codec media.Codec) (DecoderChoice, media.VideoDecoder) {
	c := DecoderChoice{Codec: codec}
	if v.opts.Mode == config.DecoderSoftware {
		c.Reason = "software chosen in the settings"
		return c, nil
	}
	v.probeOnce.Do(func() { v.devices, v.probeErr = v.m2m.probe() })
	var found, refused []string
	for _, d := range v.devices {
		found = append(found, d.String())
		if !d.CanDecode(codec) {
			continue
		}
		dec, err := v.m2m.openDecoder(v4l2m2m.DecoderOptions{Device: d.Path, Codec: codec, Logger: v.log})
		if err != nil {
			refused = append(refused, fmt.Sprintf("%s (%s) did not start: %v", d.Path, d.Card, err))
			continue
		}
		c.Hardware, c.Device, c.Card = true, d.Path, d.Card
		c.Reason = fmt.Sprintf("%s decodes %s", d.Card, codec)
		return c, dec
	}
	switch {
	case len(refused) > 0:
		// The usual reason: every instance the device has is in use.
		c.Reason = "the hardware decoder " + strings.Join(refused, "; ")
	case len(found) > 0:
		c.Reason = fmt.Sprintf("no m2m device decodes %s; found %s", codec, strings.Join(found, "; "))
	default:
		c.Reason = fmt.Sprintf("no m2m device decodes %s; found no m2m devices", codec)
	}
	if v.probeErr != nil {
		c.Reason += fmt.Sprintf("; could not probe: %v", v.probeErr)
	}
	return c, nil
}

// Choice is which decoder who's video runs on now; the zero DecoderChoice
// when none is open (no video yet, or they left).
func (v *VideoDecoders) Choice(who string) DecoderChoice {
	v.mu.Lock()
	defer v.mu.Unlock()
	if od := v.choices[who]; od != nil {
		return od.choice
	}
	return DecoderChoice{}
}

// InUse counts the decoders open now, by kind.
func (v *VideoDecoders) InUse() (hardware, software int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, od := range v.choices {
		if od.choice.Hardware {
			hardware++
		} else {
			software++
		}
	}
	return hardware, software
}

// Fallbacks is how many hardware decoders failed mid-call and left their
// participant to software.
func (v *VideoDecoders) Fallbacks() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.fallbacks
}

// openDecoder is one participant's decoder: the hardware one until it
// fails, then software. One goroutine at a time decodes (media.VideoDecoder).
type openDecoder struct {
	owner    *VideoDecoders
	who      string // the participant, as the screen knows them
	shown    string // who, cleaned for the log
	codec    media.Codec
	software func() (media.VideoDecoder, error)
	cur      media.VideoDecoder // nil when software did not start either
	// onHardware: cur is the m2m decoder (choice.Hardware, without the lock).
	onHardware bool
	choice     DecoderChoice // guarded by owner.mu
}

func (d *openDecoder) Decode(frame []byte) (*image.YCbCr, error) {
	if d.cur == nil {
		return nil, fmt.Errorf("no %s decoder: the hardware one failed and the software one did not start", d.codec)
	}
	pic, err := d.cur.Decode(frame)
	if err == nil || !d.onHardware || errors.Is(err, v4l2m2m.ErrCorruptFrame) {
		// A corrupt frame is the stream's fault: the screen waits for a
		// keyframe, on the same decoder.
		return pic, err
	}
	return d.fallBack(frame, err)
}

// fallBack closes the failed hardware decoder and goes on in software,
// from frame if it is a keyframe, else from the next one (the error asks
// the screen to ask the sender for it).
func (d *openDecoder) fallBack(frame []byte, hwErr error) (*image.YCbCr, error) {
	v := d.owner
	v.mu.Lock()
	failed := d.choice
	v.mu.Unlock()
	if cerr := d.cur.Close(); cerr != nil {
		v.log.Debug("closing the failed hardware decoder", "device", failed.Device, "err", cerr)
	}
	d.cur, d.onHardware = nil, false
	reason := fmt.Sprintf("the hardware decoder %s (%s) failed mid-call: %v", failed.Device, failed.Card, hwErr)
	sw, err := d.software()
	if err != nil {
		return nil, fmt.Errorf("%s, and the software one did not start: %w", reason, err)
	}
	d.cur = sw
	v.log.Warn("video decoder: going on in software", "participant", d.shown, "codec", d.codec, "why", reason)
	v.mu.Lock()
	d.choice = DecoderChoice{Codec: d.codec, Reason: reason}
	v.fallbacks++
	v.mu.Unlock()
	if !media.IsKeyframe(d.codec, frame) {
		return nil, fmt.Errorf("%s; software decodes from the next keyframe", reason)
	}
	return sw.Decode(frame)
}

// Close closes the decoder and forgets who's choice, unless a newer
// decoder of theirs took its place.
func (d *openDecoder) Close() error {
	v := d.owner
	v.mu.Lock()
	if v.choices[d.who] == d {
		delete(v.choices, d.who)
	}
	v.mu.Unlock()
	if d.cur == nil {
		return nil
	}
	err := d.cur.Close()
	d.cur = nil
	return err
}
