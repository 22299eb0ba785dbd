package main

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/netem"
	"github.com/callbox/callbox/internal/viewer"
)

// stream makes n packets of 20 ms of sound, sent in real time from start
// by a sender whose clock runs at rate, each arriving after delay(i) or
// lost when delay(i) < 0.
func stream(start time.Time, n int, rate float64, fec bool, delay func(i int) time.Duration) []viewer.AudioPacket {
	var ps []viewer.AudioPacket
	for i := range n {
		d := delay(i)
		if d < 0 {
			continue
		}
		sent := start.Add(time.Duration(float64(i) * 20 * float64(time.Millisecond) / rate))
		ps = append(ps, viewer.AudioPacket{Seq: uint16(1000 + i), Timestamp: uint32(5000 + 960*i),
			Arrived: sent.Add(d), Duration: 20 * time.Millisecond, FEC: fec})
	}
	return ps
}

func TestAudioConcealedPct(t *testing.T) {
	start := time.Unix(1000, 0)
	from, to := start.Add(2*time.Second), start.Add(12*time.Second) // 1000 frames
	const n = 700                                                   // 14 s of sound
	rnd := rand.New(rand.NewPCG(1, 2))
	every := func(k int) func(int) time.Duration {
		return func(i int) time.Duration {
			if i%k == 0 {
				return -1
			}
			return 30 * time.Millisecond
		}
	}
	for _, tt := range []struct {
		name     string
		packets  []viewer.AudioPacket
		min, max float64
	}{
		{"all in time", stream(start, n, 1, false, func(int) time.Duration { return 30 * time.Millisecond }), 0, 0},
		{"one in 20 lost", stream(start, n, 1, false, every(20)), 4.9, 5.1},
		{"one in 20 lost, FEC", stream(start, n, 1, true, every(20)), 0, 0},
		{"two in a row lost, FEC", stream(start, n, 1, true, func(i int) time.Duration {
			if i%20 == 0 || i%20 == 1 {
				return -1
			}
			return 30 * time.Millisecond
		}), 4.9, 5.1},
		{"jitter of ±30 ms", stream(start, n, 1, false, func(int) time.Duration {
			return time.Duration(40+rnd.IntN(60)-30) * time.Millisecond
		}), 0, 0.5},
		{"the sender's clock 2 % slow", stream(start, n, 0.98, false, func(int) time.Duration { return 30 * time.Millisecond }), 1.5, 2.5},
		{"a 3 s blackout", stream(start, n, 1, false, func(i int) time.Duration {
			if i >= 250 && i < 400 {
				return -1
			}
			return 30 * time.Millisecond
		}), 29.5, 31.5},
		{"nothing", nil, 100, 100},
	} {
		got := audioConcealedPct(tt.packets, from, to)
		if got < tt.min || got > tt.max {
			t.Errorf("%s: %.2f %% concealed, want %.1f to %.1f", tt.name, got, tt.min, tt.max)
		}
	}
}

func TestFreezeMsPerMin(t *testing.T) {
	from := time.Unix(1000, 0)
	to := from.Add(30 * time.Second)
	var pics []viewer.Picture
	for t := time.Duration(0); t < 30*time.Second; t += 33 * time.Millisecond {
		if t > 10*time.Second && t < 11*time.Second { // one freeze of a second
			continue
		}
		if t > 20*time.Second && t < 20*time.Second+150*time.Millisecond { // a short gap: not a freeze
			continue
		}
		pics = append(pics, viewer.Picture{Decoded: from.Add(t)})
	}
	if got := freezeMsPerMin(pics, from, to); math.Abs(got-2*1033) > 70 {
		t.Errorf("freeze %.0f ms a minute, want about %d (1033 ms in 30 s)", got, 2*1033)
	}
	if got := freezeMsPerMin(nil, from, to); got != 60000 {
		t.Errorf("no pictures: %.0f ms a minute, want 60000", got)
	}
}

func TestConvergeSeconds(t *testing.T) {
	s := func(kbit, packets, dropped int) netem.Second {
		return netem.Second{Bytes: kbit * 1000 / 8, Packets: packets, Dropped: dropped}
	}
	for _, tt := range []struct {
		seconds []netem.Second
		want    string
	}{
		{[]netem.Second{s(700, 100, 0), s(700, 100, 0), s(700, 100, 0)}, "0"},
		{[]netem.Second{s(1500, 100, 20), s(900, 100, 1), s(750, 100, 5), s(780, 100, 1), s(700, 100, 1), s(2000, 1, 0)}, "3"},
		{[]netem.Second{s(700, 100, 0), s(1200, 100, 0), s(700, 100, 0)}, ">2"},
	} {
		if got := convergeSeconds(tt.seconds, 800_000, 0.02); got != tt.want {
			t.Errorf("convergeSeconds(%v) = %s, want %s", tt.seconds, got, tt.want)
		}
	}
}

// TestRoundsMean: two rounds' figures are their mean, the convergence the
// worse of the two (never within the run is worse than any time).
func TestRoundsMean(t *testing.T) {
	m := meanResult([]netResult{
		{freezeMsPerMin: 600, fps: 29, resolution: "640x360", converge: "3", recovery: "0.30"},
		{freezeMsPerMin: 1800, fps: 27, resolution: "640x360", converge: ">29", recovery: "0.05"},
	})
	if m.freezeMsPerMin != 1200 || m.fps != 28 || m.resolution != "640x360" || m.converge != ">29" || m.recovery != "0.30" {
		t.Errorf("the mean of two rounds: %+v", m)
	}
}
