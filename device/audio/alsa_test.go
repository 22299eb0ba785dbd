package audio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakePCM stands in for the kernel PCM. Captured frames count up (frame
// i has value i on channel 0, i+1 on channel 1, ...), so lost or doubled
// audio shows. Errors are handed out one per transfer, before any data.
type fakePCM struct {
	channels   int
	errs       []error // returned by the next transfers, in order
	maxFrames  int     // most frames per transfer; 0: no limit
	nextFrame  int16
	written    []int16 // interleaved playback samples
	prepares   int
	starts     int
	prepareErr error
	closed     bool
}

func (f *fakePCM) nextErr() error {
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func (f *fakePCM) frames(p []int16) int {
	n := len(p) / f.channels
	if f.maxFrames > 0 {
		n = min(n, f.maxFrames)
	}
	return n
}

func (f *fakePCM) readFrames(ctx context.Context, p []int16) (int, error) {
	if f.closed {
		return 0, ErrClosed
	}
	if err := f.nextErr(); err != nil {
		return 0, err
	}
	n := f.frames(p)
	for i := 0; i < n; i++ {
		for c := 0; c < f.channels; c++ {
			p[i*f.channels+c] = f.nextFrame + int16(c)
		}
		f.nextFrame++
	}
	return n, nil
}

func (f *fakePCM) writeFrames(ctx context.Context, p []int16) (int, error) {
	if f.closed {
		return 0, ErrClosed
	}
	if err := f.nextErr(); err != nil {
		return 0, err
	}
	n := f.frames(p)
	f.written = append(f.written, p[:n*f.channels]...)
	return n, nil
}

func (f *fakePCM) prepare() error { f.prepares++; return f.prepareErr }
func (f *fakePCM) start() error   { f.starts++; return nil }
func (f *fakePCM) close() error   { f.closed = true; return nil }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)) }

func counting(from, n int) []int16 {
	want := make([]int16, n)
	for i := range want {
		want[i] = int16(from + i)
	}
	return want
}

func TestCaptureRecoversFromOverruns(t *testing.T) {
	kernelXrun := fmt.Errorf("%w: %w", errXrun, syscall.EPIPE)
	tests := []struct {
		name      string
		errs      []error
		maxFrames int
		overruns  uint64
	}{
		{name: "no overrun", overruns: 0},
		{name: "EPIPE once", errs: []error{syscall.EPIPE}, overruns: 1},
		{name: "kernel xrun once", errs: []error{kernelXrun}, overruns: 1},
		{name: "two in a row", errs: []error{kernelXrun, kernelXrun}, overruns: 2},
		{name: "between partial reads", errs: []error{nil, kernelXrun}, maxFrames: 100, overruns: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakePCM{channels: 1, errs: tt.errs, maxFrames: tt.maxFrames}
			c := &Capture{s: newStream(directionCapture, "hw:9,0", fake, 1, 960, quietLogger())}

			buf := make([]int16, 960)
			if err := c.Read(context.Background(), buf); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !slices.Equal(buf, counting(0, 960)) {
				t.Errorf("Read gave %v..., want samples 0..959 in order", buf[:5])
			}
			if got := c.Overruns(); got != tt.overruns {
				t.Errorf("Overruns() = %d, want %d", got, tt.overruns)
			}
			if fake.prepares != int(tt.overruns) || fake.starts != int(tt.overruns) {
				t.Errorf("device prepared %d and started %d times, want %d each", fake.prepares, fake.starts, tt.overruns)
			}
			// Capture goes on after recovering.
			if err := c.Read(context.Background(), buf); err != nil {
				t.Fatalf("second Read: %v", err)
			}
			if !slices.Equal(buf, counting(960, 960)) {
				t.Errorf("second Read gave %v..., want samples from 960", buf[:5])
			}
		})
	}
}

func TestCaptureErrors(t *testing.T) {
	endless := make([]error, 100)
	for i := range endless {
		endless[i] = syscall.EPIPE
	}
	tests := []struct {
		name       string
		fake       *fakePCM
		wantIs     error
		wantInText []string
	}{
		{
			name:       "device gone",
			fake:       &fakePCM{channels: 1, errs: []error{syscall.ENODEV}},
			wantIs:     syscall.ENODEV,
			wantInText: []string{"audio capture hw:9,0", "read", "no such device"},
		},
		{
			name:       "overruns without end",
			fake:       &fakePCM{channels: 1, errs: endless},
			wantIs:     syscall.EPIPE,
			wantInText: []string{"audio capture hw:9,0", "xruns in a row"},
		},
		{
			name:       "prepare fails",
			fake:       &fakePCM{channels: 1, errs: []error{syscall.EPIPE}, prepareErr: syscall.EIO},
			wantIs:     syscall.EIO,
			wantInText: []string{"audio capture hw:9,0", "recover: prepare"},
		},
		{
			name:   "closed",
			fake:   &fakePCM{channels: 1, closed: true},
			wantIs: ErrClosed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Capture{s: newStream(directionCapture, "hw:9,0", tt.fake, 1, 960, quietLogger())}
			err := c.Read(context.Background(), make([]int16, 960))
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("Read error = %v, want one that is %v", err, tt.wantIs)
			}
			for _, s := range tt.wantInText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestCaptureDownmixesToMono(t *testing.T) {
	fake := &fakePCM{channels: 2, maxFrames: 300, errs: []error{nil, syscall.EPIPE}}
	c := &Capture{s: newStream(directionCapture, "hw:9,0", fake, 2, 480, quietLogger())}
	buf := make([]int16, 1000) // more than one period, so it takes several reads
	if err := c.Read(context.Background(), buf); err != nil {
		t.Fatal(err)
	}
	// Frame i is (i, i+1): the mono mean rounds down to i.
	if !slices.Equal(buf, counting(0, 1000)) {
		t.Errorf("downmixed %v..., want 0, 1, 2, ...", buf[:5])
	}
}

func TestDownmix(t *testing.T) {
	tests := []struct {
		name        string
		interleaved []int16
		channels    int
		want        []int16
	}{
		{"mono unchanged", []int16{1, -2, 3}, 1, []int16{1, -2, 3}},
		{"stereo mean", []int16{100, 300, -100, -300}, 2, []int16{200, -200}},
		{"full scale does not wrap", []int16{32767, 32767, -32768, -32768}, 2, []int16{32767, -32768}},
		{"opposite cancel", []int16{32767, -32767}, 2, []int16{0}},
		{"three channels", []int16{3, 6, 9}, 3, []int16{6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]int16, len(tt.want))
			downmix(got, tt.interleaved, tt.channels)
			if !slices.Equal(got, tt.want) {
				t.Errorf("downmix = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlaybackRecoversFromUnderruns(t *testing.T) {
	tests := []struct {
		name      string
		channels  int
		errs      []error
		maxFrames int
		underruns uint64
	}{
		{name: "mono, no underrun", channels: 1},
		{name: "mono, EPIPE once", channels: 1, errs: []error{syscall.EPIPE}, underruns: 1},
		{name: "stereo, partial writes and underrun", channels: 2, errs: []error{nil, syscall.EPIPE}, maxFrames: 250, underruns: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakePCM{channels: tt.channels, errs: tt.errs, maxFrames: tt.maxFrames}
			p := &Playback{s: newStream(directionPlayback, "hw:9,0", fake, tt.channels, 480, quietLogger())}
			in := counting(0, 1000)
			if err := p.Write(context.Background(), in); err != nil {
				t.Fatalf("Write: %v", err)
			}
			var want []int16
			for _, v := range in {
				for range tt.channels {
					want = append(want, v)
				}
			}
			if !slices.Equal(fake.written, want) {
				t.Errorf("device got %d samples %v..., want %d: every input sample once on each channel, in order",
					len(fake.written), fake.written[:min(6, len(fake.written))], len(want))
			}
			if got := p.Underruns(); got != tt.underruns {
				t.Errorf("Underruns() = %d, want %d", got, tt.underruns)
			}
			if fake.prepares != int(tt.underruns) || fake.starts != 0 {
				t.Errorf("prepared %d and started %d times, want %d and 0 (playback starts by itself)", fake.prepares, fake.starts, tt.underruns)
			}
		})
	}
}

func TestXrunWarningsAreRateLimited(t *testing.T) {
	var log bytes.Buffer
	fake := &fakePCM{channels: 1}
	s := newStream(directionCapture, "hw:9,0", fake, 1, 480, slog.New(slog.NewTextHandler(&log, nil)))
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	buf := make([]int16, 480)

	overrun := func(times int) {
		t.Helper()
		for range times {
			fake.errs = append(fake.errs, syscall.EPIPE)
		}
		if err := s.read(context.Background(), buf); err != nil {
			t.Fatal(err)
		}
	}
	overrun(5) // first warns, the other four are held back
	now = now.Add(xrunLogInterval - time.Millisecond)
	overrun(1)
	now = now.Add(time.Millisecond)
	overrun(1) // warns with the six not yet told

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d warnings, want 2:\n%s", len(lines), log.String())
	}
	for i, want := range []string{"count=1 total=1", "count=6 total=7"} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], "overrun") || !strings.Contains(lines[i], "hw:9,0") {
			t.Errorf("warning %d = %q, want an overrun on hw:9,0 with %s", i, lines[i], want)
		}
	}
}

func TestChooseChannels(t *testing.T) {
	tests := []struct {
		name    string
		offer   deviceOffer
		want    int
		wantErr string
	}{
		{"mono device", deviceOffer{formats: []string{"S16_LE"}, channelsMin: 1, channelsMax: 2, rateMin: 8000, rateMax: 48000}, 1, ""},
		{"stereo only", deviceOffer{formats: []string{"S16_LE", "S32_LE"}, channelsMin: 2, channelsMax: 2, rateMin: 48000, rateMax: 48000}, 2, ""},
		{"no S16", deviceOffer{formats: []string{"S32_LE", "S24_LE"}, channelsMin: 2, channelsMax: 2, rateMin: 44100, rateMax: 192000}, 0,
			"need S16_LE at 48000 Hz, device offers formats S32_LE,S24_LE; channels 2; rates 44100-192000 Hz"},
		{"44.1 kHz only", deviceOffer{formats: []string{"S16_LE"}, channelsMin: 1, channelsMax: 1, rateMin: 44100, rateMax: 44100}, 0,
			"device offers formats S16_LE; channels 1; rates 44100 Hz"},
		{"nothing", deviceOffer{}, 0, "formats none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chooseChannels(tt.offer)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want ErrUnsupportedFormat saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("chooseChannels = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestPeriodFrames(t *testing.T) {
	tests := []struct {
		period  time.Duration
		want    int
		wantErr bool
	}{
		{0, 960, false},
		{20 * time.Millisecond, 960, false},
		{10 * time.Millisecond, 480, false},
		{15 * time.Millisecond, 0, true},
		{-time.Millisecond, 0, true},
		{time.Second, 0, true},
	}
	for _, tt := range tests {
		got, err := periodFrames(tt.period)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("periodFrames(%v) = %d, %v; want %d, error %v", tt.period, got, err, tt.want, tt.wantErr)
		}
	}
}

// On this machine (and any without that card) opening must fail with an
// error that names the device, not panic.
func TestOpenMissingDevice(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		device string
		want   string
	}{
		{"hw:7,0", "no sound card 7"},
		{"NoSuchCard", `no sound card named "NoSuchCard"`},
		{"dmix:0", "not ALSA plugins"},
	}
	for _, tt := range tests {
		t.Run(tt.device, func(t *testing.T) {
			if _, err := os.Stat("/dev/snd/controlC7"); err == nil {
				t.Skip("this machine has a card 7")
			}
			_, err := OpenCapture(ctx, CaptureOptions{Device: tt.device})
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.device) {
				t.Errorf("OpenCapture error = %v, want ErrNotFound naming %q and saying %q", err, tt.device, tt.want)
			}
			_, err = OpenPlayback(ctx, PlaybackOptions{Device: tt.device})
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "playback") {
				t.Errorf("OpenPlayback error = %v, want ErrNotFound for playback", err)
			}
		})
	}
	t.Run("bad period", func(t *testing.T) {
		_, err := OpenCapture(ctx, CaptureOptions{Device: "hw:0,0", Period: 15 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "period 15ms") {
			t.Errorf("error = %v, want one about period 15ms", err)
		}
	})
}
