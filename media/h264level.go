package media

import "fmt"

// H264Level is an H.264 level (Annex A of the standard): level_idc, 31 for
// 3.1, 40 for 4.0. It bounds what a decoder must handle, so an encoder
// writes the lowest one its stream keeps to, and x264 and the hardware
// encoders are told the same one for the same settings.
type H264Level int

func (l H264Level) String() string { return fmt.Sprintf("%d.%d", l/10, l%10) }

// h264Levels are the limits of Table A-1 from 3.1 up, for the constrained
// baseline profile: macroblocks a second, macroblocks a picture, kbit/s.
// Nothing is sent below 3.1, the level WebRTC's H.264 is offered at.
var h264Levels = []struct {
	level              H264Level
	mbPerSecond, mbPer int
	maxKbps            int
}{
	{31, 108000, 3600, 14000},
	{32, 216000, 5120, 20000},
	{40, 245760, 8192, 20000},
	{41, 245760, 8192, 50000},
	{42, 522240, 8704, 50000},
	{50, 589824, 22080, 135000},
	{51, 983040, 36864, 240000},
}

// MaxH264Level is the highest level the box sends: 4K at 30 fps.
const MaxH264Level H264Level = 51

// H264LevelFor is the lowest level from 3.1 up that carries width x height
// pictures at fps frames a second and kbps kbit/s: 3.1 for 720p30, 4.0
// for 1080p30. false when even MaxH264Level does not.
func H264LevelFor(width, height, fps, kbps int) (H264Level, bool) {
	mbW, mbH := (width+15)/16, (height+15)/16
	perPicture := mbW * mbH
	for _, l := range h264Levels {
		// A picture's sides are bounded too: at most sqrt(8 * MaxFS) macroblocks.
		if perPicture <= l.mbPer && perPicture*fps <= l.mbPerSecond && kbps <= l.maxKbps &&
			mbW*mbW <= 8*l.mbPer && mbH*mbH <= 8*l.mbPer {
			return l.level, true
		}
	}
	return 0, false
}
