package media

import "time"

// Opus packets as RFC 6716 lays them out: a TOC byte (configuration,
// stereo flag, frame count code), then the frames.

// OpusDuration is how much sound an Opus packet holds, from its TOC byte
// (RFC 6716, 3.1) and, for code 3, its frame count; 0 for a packet that
// is empty or says more than 120 ms.
func OpusDuration(packet []byte) time.Duration {
	if len(packet) == 0 {
		return 0
	}
	toc := packet[0]
	config := toc >> 3
	var frame time.Duration
	switch {
	case config < 12: // SILK only: 10, 20, 40, 60 ms
		frame = [4]time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]time.Duration{10, 20}[config%2] * time.Millisecond
	default: // CELT only: 2.5, 5, 10, 20 ms
		frame = [4]time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(packet) < 2 {
			return 0
		}
		frames = int(packet[1] & 0x3f)
	}
	if d := time.Duration(frames) * frame; d <= 120*time.Millisecond {
		return d
	}
	return 0
}

// OpusHasFEC reports whether an Opus packet carries in-band forward error
// correction: a low-bitrate copy of the packet before it (SILK's LBRR
// frame), which a decoder uses when that one was lost. Only packets of
// one SILK or hybrid frame of 10 or 20 ms are read (what WebRTC senders
// send); for others it says false.
//
// Such a frame starts with SILK's header bits, range coded with even
// odds, which makes them the first bits of the frame as they are: the
// voice activity flag, then the LBRR flag (RFC 6716, 4.2.3 and 4.1).
func OpusHasFEC(packet []byte) bool {
	if len(packet) < 2 || packet[0]&3 != 0 {
		return false
	}
	config := packet[0] >> 3
	oneFrame := (config < 12 && config%4 < 2) || (config >= 12 && config < 16)
	return oneFrame && packet[1]&0x40 != 0
}
