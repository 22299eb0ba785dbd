package v4l2m2m

import (
	"fmt"
	"strings"

	"github.com/callbox/callbox/media"
)

// Modes of choosing between hardware and software codecs, as written in
// the config (video.encoder).
const (
	ModeAuto     = "auto"
	ModeHardware = "hardware"
	ModeSoftware = "software"
)

// Choice is which codec implementation was chosen, and why, in words a
// status page can show.
type Choice struct {
	Hardware bool
	// Device and Card name the m2m device, when Hardware.
	Device, Card string
	Codec        media.Codec
	Reason       string
}

func (c Choice) String() string {
	if c.Hardware {
		return fmt.Sprintf("hardware %s on %s (%s): %s", c.Codec, c.Device, c.Card, c.Reason)
	}
	return fmt.Sprintf("software %s: %s", c.Codec, c.Reason)
}

// ChooseEncoder picks the implementation for encoding codec: in auto mode
// the first device that encodes it, software when none does; hardware mode
// without such a device is an error. probeErr (devices that could not be
// opened) goes into the reason.
func ChooseEncoder(mode string, codec media.Codec, devices []DeviceInfo, probeErr error) (Choice, error) {
	return choose(mode, "encoder", "encodes", codec, devices, probeErr, DeviceInfo.CanEncode)
}

// ChooseDecoder is ChooseEncoder for decoding.
func ChooseDecoder(mode string, codec media.Codec, devices []DeviceInfo, probeErr error) (Choice, error) {
	return choose(mode, "decoder", "decodes", codec, devices, probeErr, DeviceInfo.CanDecode)
}

func choose(mode, role, verb string, codec media.Codec, devices []DeviceInfo, probeErr error,
	can func(DeviceInfo, media.Codec) bool) (Choice, error) {
	c := Choice{Codec: codec}
	switch mode {
	case ModeSoftware:
		c.Reason = "video." + role + " = " + ModeSoftware
		return c, nil
	case ModeAuto, ModeHardware, "":
	default:
		return c, fmt.Errorf("video.%s: %q is not one of %s, %s, %s", role, mode, ModeAuto, ModeHardware, ModeSoftware)
	}
	for _, d := range devices {
		if can(d, codec) {
			c.Hardware, c.Device, c.Card = true, d.Path, d.Card
			c.Reason = fmt.Sprintf("%s %s %s", d.Card, verb, codec)
			if mode == ModeHardware {
				c.Reason += " (video." + role + " = " + ModeHardware + ")"
			}
			return c, nil
		}
	}
	var found []string
	for _, d := range devices {
		found = append(found, d.String())
	}
	why := fmt.Sprintf("no m2m device %s %s", verb, codec)
	if len(found) > 0 {
		why += "; found " + strings.Join(found, "; ")
	} else {
		why += "; found no m2m devices"
	}
	if probeErr != nil {
		why += fmt.Sprintf("; could not probe: %v", probeErr)
	}
	if mode == ModeHardware {
		return c, fmt.Errorf("video.%s = %s, but %s", role, ModeHardware, why)
	}
	c.Reason = why
	return c, nil
}
