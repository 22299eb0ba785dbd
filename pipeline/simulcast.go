package pipeline

// Simulcast: one camera, up to three picture sizes, one encoder each. The
// smaller layers are scaled from the layer above them (720p to 360p, 360p
// to 180p), which costs a quarter of scaling each from the full picture.

import (
	"context"
	"fmt"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// LayerSpec is the size of one simulcast layer and the most it sends.
type LayerSpec struct {
	Width, Height int
	BitsPerSecond int
}

// Simulcast's smallest layer; anything smaller is not worth a stream.
const minLayerWidth, minLayerHeight = 160, 90

// PlanSimulcast returns the layers for pictures of width x height sent at
// most at bitsPerSecond, largest first: the full size, then each half the
// one above (even sizes, at least 160x90), at most three. The smaller
// layers get bitrates in the proportions of LiveKit's own presets (720p
// 1.7 Mb/s, 360p 450 kb/s, 180p 160 kb/s): 3/10 and 1/10 of the full one.
func PlanSimulcast(width, height, bitsPerSecond int) []LayerSpec {
	layers := []LayerSpec{{Width: width, Height: height, BitsPerSecond: bitsPerSecond}}
	shares := []int{3, 1} // tenths
	for _, share := range shares {
		above := layers[len(layers)-1]
		w, h := above.Width/2&^1, above.Height/2&^1
		if w < minLayerWidth || h < minLayerHeight {
			break
		}
		layers = append(layers, LayerSpec{Width: w, Height: h, BitsPerSecond: bitsPerSecond * share / 10})
	}
	return layers
}

// SimulcastLayerSettings is s for layer i of plan: the layer's size and
// bitrate and, below the first layer, LowEffort. The first layer is coded
// exactly as the camera's picture is without simulcast.
func SimulcastLayerSettings(s VideoSettings, plan []LayerSpec, i int) VideoSettings {
	l := plan[i]
	s.Width, s.Height, s.BitsPerSecond = l.Width, l.Height, l.BitsPerSecond
	s.LowEffort = s.LowEffort || i > 0
	// A smaller size of one stream is sent only while the network is
	// short, and must fill what the network gives for the estimate to
	// climb back (ladder.go): only the camera's own size is capped.
	s.Capped = s.Capped && i == 0
	return s
}

// NewSoftwareSimulcastLayers opens codec's software encoder for every
// layer of plan (SimulcastLayerSettings), scaled by the send path; a plan
// of one layer is the camera's picture without simulcast. On an error it
// closes what it opened.
func NewSoftwareSimulcastLayers(codec media.Codec, s VideoSettings, plan []LayerSpec) ([]SimulcastLayer, error) {
	var layers []SimulcastLayer
	for i, l := range plan {
		enc, err := NewSoftwareVideoEncoder(codec, SimulcastLayerSettings(s, plan, i))
		if err != nil {
			for _, opened := range layers {
				opened.Encoder.Close()
			}
			if len(plan) > 1 {
				err = fmt.Errorf("simulcast layer %dx%d: %w", l.Width, l.Height, err)
			}
			return nil, err
		}
		layers = append(layers, SimulcastLayer{Width: l.Width, Height: l.Height, Encoder: enc})
	}
	return layers, nil
}

// SimulcastLayer is one layer of a simulcast send path.
type SimulcastLayer struct {
	Width, Height int
	Encoder       media.VideoEncoder
	// Scale, when set, makes this layer's picture from the picture of the
	// layer above it (a hardware m2m scaler). Unset, Scaler scales in
	// I420. Unused on the first layer, which takes the camera's pictures.
	Scale func(camera.Frame) (camera.Frame, error)
}

// SendSimulcast is the video send path for several layers: it reads each
// frame from src once, converts it where an encoder needs that, scales it
// down layer by layer, encodes every layer and hands each coded frame to
// out with the layer's index, until ctx ends or a part fails. The first
// layer is the camera's own size. In steady state it allocates nothing
// beyond what the encoders do.
func SendSimulcast(ctx context.Context, src camera.Source, layers []SimulcastLayer, out func(layer int, f media.EncodedFrame) error) error {
	if len(layers) == 0 {
		return fmt.Errorf("simulcast: no layers")
	}
	p := newSimulcastPictures(len(layers))
	defer p.close()
	for {
		f, err := src.ReadFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for i, layer := range layers {
			pic, err := p.picture(i, layer, f)
			if err != nil {
				return fmt.Errorf("simulcast layer %dx%d: %w", layer.Width, layer.Height, err)
			}
			f = pic // the next layer is made from this one
			coded, err := layer.Encoder.Encode(pic)
			if err != nil {
				return err
			}
			if len(coded.Data) == 0 {
				continue
			}
			if err := out(i, coded); err != nil {
				return fmt.Errorf("send video layer %dx%d: %w", layer.Width, layer.Height, err)
			}
		}
	}
}

// simulcastPictures holds, per layer, what it takes to make that layer's
// picture, and the buffers they reuse.
type simulcastPictures struct {
	conv   []Converter // to I420, for an encoder that takes nothing else
	scaler []Scaler
}

func newSimulcastPictures(n int) *simulcastPictures {
	return &simulcastPictures{conv: make([]Converter, n), scaler: make([]Scaler, n)}
}

func (p *simulcastPictures) close() {
	for i := range p.conv {
		p.conv[i].Close()
		p.scaler[i].Close()
	}
}

// picture makes layer i's picture from above: the camera's frame for the
// first layer, the layer above's picture for the others.
func (p *simulcastPictures) picture(i int, layer SimulcastLayer, above camera.Frame) (camera.Frame, error) {
	f := above
	var err error
	switch {
	case i == 0:
		if f.Format.Width != layer.Width || f.Format.Height != layer.Height {
			return camera.Frame{}, fmt.Errorf("the camera gives %dx%d, the first layer is %dx%d",
				f.Format.Width, f.Format.Height, layer.Width, layer.Height)
		}
	case layer.Scale != nil:
		f, err = layer.Scale(f)
	default:
		f, err = p.scaler[i].Scale(f, layer.Width, layer.Height)
	}
	if err != nil {
		return camera.Frame{}, err
	}
	if layer.Encoder != nil && !layer.Encoder.Accepts(f.Format.Pixel) {
		return p.conv[i].ToI420(f)
	}
	return f, nil // as it is for an encoder that takes it, or for no encoder (a step to the layer below)
}

// Scaler resizes pictures in I420 (other formats are converted first):
// exact halves by 2x2 averages (halve.go), other sizes with libswscale.
// It reuses its buffers: the steady state allocates nothing. The zero
// Scaler is ready to use; Close frees it.
type Scaler struct {
	conv Converter
	sws  swsScaler
	buf  []byte
}

// Close frees what the scaler holds.
func (s *Scaler) Close() {
	s.conv.Close()
	s.sws.close()
}

// Scale returns f resized to width x height, tightly packed I420. The
// result's Data is valid until the next call.
func (s *Scaler) Scale(f camera.Frame, width, height int) (camera.Frame, error) {
	if width <= 0 || height <= 0 || width%2 != 0 || height%2 != 0 {
		return camera.Frame{}, fmt.Errorf("scale frame %d: size %dx%d is not positive and even", f.Seq, width, height)
	}
	f, err := s.conv.ToI420(f)
	if err != nil {
		return camera.Frame{}, err
	}
	src, err := yuvPlanes(f, f.Format.Width, f.Format.Height)
	if err != nil {
		return camera.Frame{}, fmt.Errorf("scale frame %d: %w", f.Seq, err)
	}
	size := width*height + width*height/2
	if cap(s.buf) < size {
		s.buf = make([]byte, size)
	}
	data := s.buf[:size]
	y, u, v := data[:width*height], data[width*height:width*height+width*height/4], data[width*height+width*height/4:]
	if isHalf(f.Format.Width, f.Format.Height, width, height) {
		err = halveI420(src, f.Format.Width, f.Format.Height, y, u, v)
	} else {
		err = s.sws.scale(src, f.Format.Width, f.Format.Height, y, u, v, width, height)
	}
	if err != nil {
		return camera.Frame{}, fmt.Errorf("scale frame %d: %w", f.Seq, err)
	}
	out := f
	out.Format.Width, out.Format.Height, out.Format.Stride = width, height, 0
	out.Data = data
	out.DMABuf = nil // the picture is in our buffer now, not the camera's
	return out, nil
}
