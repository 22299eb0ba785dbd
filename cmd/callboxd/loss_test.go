package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/netem"
)

// lossyPeer is peer n's namespace behind an emulated link, clean until
// the test sets it to the loss3 profile it returns; removed when the test
// ends.
func lossyPeer(t *testing.T, n int) (*netem.Peer, netem.Profile) {
	t.Helper()
	profile, err := netem.ByName("loss3")
	if err != nil {
		t.Fatal(err)
	}
	peer, err := netem.NewPeer(n, netem.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return peer, profile
}

// TestCallUnderLoss: the box behind the loss3 network (3 % of packets
// lost each way, 40 ms round trip: internal/netem) for a 20 s call. A
// subscriber on a good network keeps decoding its pictures, whose frame
// numbers (read back off the pictures) go up, at 20 pictures a second or
// more, and hears the 440 Hz tone.
//
// The floor: under loss3 the box arrived at 29 to 30 fps in the bench
// (README, freeze_ms_per_min_loss3 and received_fps_loss3); each loss is
// answered by a retransmission within a round trip, and only a lost
// keyframe costs a freeze of a few hundred milliseconds. 20 fps, two
// thirds of the camera's 30, leaves room for a few such freezes and a
// loaded machine, and still fails a box that loses a third of its
// pictures, as one without retransmissions or keyframe requests does.
func TestCallUnderLoss(t *testing.T) {
	peer, profile := lossyPeer(t, 19)
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v := startViewer(t, srv, "lossy")
	d := startDaemonCmd(t, peer.Command(daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd"), append(plainArgs(srv, "lossy"),
		"-width", "640", "-height", "360", "-tone-hz", "440")...))
	d.waitLog(t, "in the call", 30*time.Second)
	if err := v.WaitPictures(ctx, 1); err != nil {
		t.Fatal(err)
	}

	peer.Set(profile)
	from := time.Now()
	time.Sleep(20 * time.Second)
	up, down := peer.Stats()
	t.Logf("the box's network lost %d of %d packets sent and %d of %d received", up.Dropped(), up.Packets, down.Dropped(), down.Packets)
	// Both ways through the emulated link, and some lost on the way: each
	// way alone may lose nothing by chance (0.7 % for 160 packets at 3 %).
	if up.Packets == 0 || down.Packets == 0 || up.Lost+down.Lost == 0 {
		t.Fatalf("loss3 lost nothing or carried one way only: the box is not behind the emulated network")
	}

	stamped, last, backwards := 0, uint32(0), 0
	for _, p := range v.Pictures() {
		if p.Decoded.Before(from) || p.Err != nil {
			continue
		}
		if stamped > 0 && p.Stamp.Frame <= last {
			backwards++
		}
		stamped++
		last = p.Stamp.Frame
	}
	fps := float64(stamped) / 20
	t.Logf("%d pictures with readable stamps in 20 s: %.1f fps", stamped, fps)
	if fps < 20 {
		t.Errorf("%.1f pictures a second with readable stamps under loss3, want at least 20", fps)
	}
	if backwards > 0 {
		t.Errorf("%d pictures came with a frame number not above the one before", backwards)
	}
	checkTone(t, ctx, v)
	d.stop(t)
}

// TestReceivedLossUnderLoss: the box behind the loss3 network receives
// alice (on a good one) for 15 s; its metrics count audio packets lost on
// the way (the call server does not send sound again, as it does video
// after a NACK), about the 3 % the link drops, where the clean start
// counted none.
func TestReceivedLossUnderLoss(t *testing.T) {
	peer, profile := lossyPeer(t, 20)
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const room = "lossy-receive"
	left := startSender(t, ctx, srv, room, senders[0])
	t.Cleanup(func() { cancel(); <-left })
	metricsAddr := net.JoinHostPort(peer.Addr, "9464")
	cfgPath := filepath.Join(t.TempDir(), "callbox.toml")
	cfgText := fmt.Sprintf("[display]\noutput = \"none\"\n[metrics]\nlisten = %q\ntoken = %q\n", metricsAddr, metricsToken)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemonCmd(t, peer.Command(daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd"),
		append(plainArgs(srv, room), "-config", cfgPath)...))
	d.waitLog(t, "in the call", 30*time.Second)

	audio := func() (received, lost float64) {
		text := scrape(t, metricsAddr)
		received, _ = metricValue(text, `callbox_received_packets_total{kind="audio"}`)
		lost, _ = metricValue(text, `callbox_received_packets_lost_total{kind="audio"}`)
		return received, lost
	}
	if err := daemontest.Poll(20*time.Second, 200*time.Millisecond, func() error {
		if received, _ := audio(); received < 100 {
			return fmt.Errorf("%.0f of alice's sound packets received, want 100", received)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	received0, lost0 := audio()
	if lost0 != 0 {
		t.Errorf("%.0f of %.0f sound packets lost on the clean link", lost0, received0)
	}
	peer.Set(profile)
	time.Sleep(15 * time.Second)
	_, down := peer.Stats()
	received, lost := audio()
	received, lost = received-received0, lost-lost0
	ratio := lost / (lost + received)
	t.Logf("the link dropped %d of %d packets to the box; the box counted %.0f of %.0f sound packets lost (%.1f %%)",
		down.Dropped(), down.Packets, lost, lost+received, 100*ratio)
	if lost <= 0 || ratio > 0.1 {
		t.Errorf("%.0f sound packets lost of %.0f under 3 %% loss, want some and under 10 %%", lost, lost+received)
	}
	d.stop(t)
}

// metricValue is the value of series (name and labels as the text
// format writes them) in the metrics text.
func metricValue(text, series string) (float64, bool) {
	for line := range strings.Lines(text) {
		if value, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return v, err == nil
		}
	}
	return 0, false
}
