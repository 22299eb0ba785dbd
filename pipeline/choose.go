package pipeline

// The choice between the board's hardware video encoder (a V4L2 m2m
// device) and the software ones.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// ErrNoHardwareEncoder: the encoder mode asks for the hardware encoder and
// there is none for the codec, or it did not start. The error wrapping it
// says which and why.
var ErrNoHardwareEncoder = errors.New("no hardware encoder")

// EncoderChoice is which video encoder runs, and why, in words a status
// page can show.
type EncoderChoice struct {
	Hardware bool
	// Device and Card name the m2m device, when Hardware.
	Device, Card string
	Codec        media.Codec
	Reason       string
}

func (c EncoderChoice) String() string {
	if c.Hardware {
		return fmt.Sprintf("hardware %s on %s (%s): %s", c.Codec, c.Device, c.Card, c.Reason)
	}
	return fmt.Sprintf("software %s: %s", c.Codec, c.Reason)
}

// chooseEncoder picks the encoder for codec: in auto mode the first device
// that encodes it, software when none does; hardware mode without such a
// device is an error wrapping ErrNoHardwareEncoder. probeErr (devices that
// could not be opened) goes into the reason.
func chooseEncoder(mode config.EncoderMode, codec media.Codec, devices []v4l2m2m.DeviceInfo, probeErr error) (EncoderChoice, error) {
	c := EncoderChoice{Codec: codec}
	switch mode {
	case config.EncoderSoftware:
		c.Reason = "software chosen in the settings"
		return c, nil
	case config.EncoderAuto, config.EncoderHardware, "":
	default:
		return c, fmt.Errorf("encoder mode %q is not one of %s, %s, %s", mode, config.EncoderAuto, config.EncoderHardware, config.EncoderSoftware)
	}
	for _, d := range devices {
		if d.CanEncode(codec) {
			c.Hardware, c.Device, c.Card = true, d.Path, d.Card
			c.Reason = fmt.Sprintf("%s encodes %s", d.Card, codec)
			if mode == config.EncoderHardware {
				c.Reason += " (hardware chosen in the settings)"
			}
			return c, nil
		}
	}
	var found []string
	for _, d := range devices {
		found = append(found, d.String())
	}
	why := fmt.Sprintf("no m2m device encodes %s", codec)
	if len(found) > 0 {
		why += "; found " + strings.Join(found, "; ")
	} else {
		why += "; found no m2m devices"
	}
	if probeErr != nil {
		why += fmt.Sprintf("; could not probe: %v", probeErr)
	}
	if mode == config.EncoderHardware {
		return c, fmt.Errorf("%w: %s", ErrNoHardwareEncoder, why)
	}
	c.Reason = why
	return c, nil
}
