package netem_test

// These check the emulator as a tool: UDP through a real link between two
// namespaces, with delay, loss and rate measured against what the profile
// says, within wide bounds (the machine is shared; these are not timings).

import (
	"encoding/binary"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/netem"
	"github.com/callbox/callbox/internal/netns"
)

func TestMain(m *testing.M) { netns.Run(m) }

// newPeer makes peer n on shape s (both ways), removed when the test ends.
func newPeer(t *testing.T, n int, up, down netem.Shape) *netem.Peer {
	t.Helper()
	p, err := netem.NewPeer(n, netem.Profile{Name: t.Name(), Up: up, Down: down})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

type arrival struct {
	seq       int
	sent, got time.Time
}

func (a arrival) delay() time.Duration { return a.got.Sub(a.sent) }

// flow sends n datagrams of size bytes, one every gap on average, from
// the peer to the first namespace (up) or the other way, and returns those
// that arrived, in the order they did.
func flow(t *testing.T, p *netem.Peer, up bool, n, size int, gap time.Duration) []arrival {
	t.Helper()
	var rx, tx *net.UDPConn
	listen := func(ip string) func() error {
		return func() (err error) {
			rx, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
			return err
		}
	}
	dial := func() (err error) {
		tx, err = net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
		return err
	}
	if up {
		if err := listen(netns.Addr)(); err != nil {
			t.Fatal(err)
		}
		if err := p.Do(dial); err != nil {
			t.Fatal(err)
		}
	} else {
		if err := p.Do(listen(p.Addr)); err != nil {
			t.Fatal(err)
		}
		if err := dial(); err != nil {
			t.Fatal(err)
		}
	}
	defer rx.Close()
	defer tx.Close()
	if err := rx.SetReadBuffer(4 << 20); err != nil { // a busy machine must not lose what the link let through
		t.Fatal(err)
	}

	got := make(chan []arrival, 1)
	go func() {
		var as []arrival
		buf := make([]byte, 2048)
		for {
			k, err := rx.Read(buf)
			if err != nil { // the deadline after the last
				got <- as
				return
			}
			if k >= 12 {
				as = append(as, arrival{seq: int(binary.BigEndian.Uint32(buf)),
					sent: time.Unix(0, int64(binary.BigEndian.Uint64(buf[4:]))), got: time.Now()})
			}
		}
	}()
	start := time.Now()
	msg := make([]byte, size)
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * gap)); wait > 0 {
			time.Sleep(wait) // several go at once where gap is shorter than a sleep
		}
		binary.BigEndian.PutUint32(msg, uint32(i))
		binary.BigEndian.PutUint64(msg[4:], uint64(time.Now().UnixNano()))
		if _, err := tx.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := rx.SetReadDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		t.Fatal(err) // the reader would wait for ever
	}
	return <-got
}

func delays(as []arrival) []time.Duration {
	var ds []time.Duration
	for _, a := range as {
		ds = append(ds, a.delay())
	}
	slices.Sort(ds)
	return ds
}

func percentile(ds []time.Duration, p int) time.Duration { return ds[(len(ds)-1)*p/100] }

func inOrder(t *testing.T, as []arrival) {
	t.Helper()
	for i := 1; i < len(as); i++ {
		if as[i].seq < as[i-1].seq {
			t.Fatalf("datagram %d arrived after %d: the link reorders", as[i].seq, as[i-1].seq)
		}
	}
}

func TestDelay(t *testing.T) {
	for _, up := range []bool{true, false} {
		name := map[bool]string{true: "up", false: "down"}[up]
		t.Run(name, func(t *testing.T) {
			// Up and down differ, so a link that swapped them fails.
			p := newPeer(t, 11, netem.Shape{Delay: 30 * time.Millisecond}, netem.Shape{Delay: 60 * time.Millisecond})
			want := map[bool]time.Duration{true: 30 * time.Millisecond, false: 60 * time.Millisecond}[up]
			as := flow(t, p, up, 100, 200, 5*time.Millisecond)
			if len(as) != 100 {
				t.Fatalf("%d of 100 datagrams arrived, want all", len(as))
			}
			ds := delays(as)
			t.Logf("delay: min %v, median %v, max %v", ds[0], percentile(ds, 50), ds[len(ds)-1])
			if ds[0] < want {
				t.Errorf("a datagram took %v, want at least the delay of %v", ds[0], want)
			}
			if m := percentile(ds, 50); m > want+15*time.Millisecond {
				t.Errorf("median delay %v, want about %v", m, want)
			}
			inOrder(t, as)
		})
	}
}

func TestJitter(t *testing.T) {
	p := newPeer(t, 12, netem.Shape{Delay: 40 * time.Millisecond, Jitter: 30 * time.Millisecond}, netem.Shape{})
	as := flow(t, p, true, 200, 200, 20*time.Millisecond)
	if len(as) != 200 {
		t.Fatalf("%d of 200 datagrams arrived, want all", len(as))
	}
	ds := delays(as)
	p5, p50, p95 := percentile(ds, 5), percentile(ds, 50), percentile(ds, 95)
	t.Logf("delay: min %v, p5 %v, median %v, p95 %v, max %v", ds[0], p5, p50, p95, ds[len(ds)-1])
	if ds[0] < 10*time.Millisecond {
		t.Errorf("a datagram took %v, want at least 40-30 ms", ds[0])
	}
	if p95-p5 < 30*time.Millisecond {
		t.Errorf("delays from %v to %v (p5 to p95), want them spread over about 60 ms", p5, p95)
	}
	if p50 < 30*time.Millisecond || p50 > 70*time.Millisecond {
		t.Errorf("median delay %v, want about 40 ms", p50)
	}
	inOrder(t, as)
}

// lossRuns is the share of datagrams lost and the mean length of the runs
// of consecutive lost ones.
func lossRuns(as []arrival, n int) (loss, run float64) {
	got := make([]bool, n)
	for _, a := range as {
		got[a.seq] = true
	}
	lost, runs := 0, 0
	for i, ok := range got {
		if !ok {
			lost++
			if i == 0 || got[i-1] {
				runs++
			}
		}
	}
	return float64(lost) / float64(n), float64(lost) / float64(max(runs, 1))
}

func TestLoss(t *testing.T) {
	const n = 6000
	for _, tt := range []struct {
		name             string
		shape            netem.Shape
		minLoss, maxLoss float64
		minRun, maxRun   float64
	}{
		{"random", netem.Shape{Loss: 0.03}, 0.02, 0.045, 1, 1.3},
		// 1/(1+20) of datagrams in bursts, 5 on average.
		{"burst", netem.Shape{Burst: netem.Burst{Start: 0.01, End: 0.2, Loss: 1}}, 0.025, 0.08, 3, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPeer(t, 13, tt.shape, netem.Shape{})
			as := flow(t, p, true, n, 200, 500*time.Microsecond)
			loss, run := lossRuns(as, n)
			up, _ := p.Stats()
			t.Logf("lost %.2f %% in runs of %.2f; the link counts %d lost of %d", 100*loss, run, up.Lost, up.Packets)
			if loss < tt.minLoss || loss > tt.maxLoss {
				t.Errorf("lost %.2f %%, want %.1f to %.1f %%", 100*loss, 100*tt.minLoss, 100*tt.maxLoss)
			}
			if run < tt.minRun || run > tt.maxRun {
				t.Errorf("losses in runs of %.2f on average, want %.1f to %.1f", run, tt.minRun, tt.maxRun)
			}
			if up.Lost != n-len(as) {
				t.Errorf("the link counts %d lost, %d did not arrive", up.Lost, n-len(as))
			}
		})
	}
}

func TestRate(t *testing.T) {
	const rate = 800_000
	p := newPeer(t, 14, netem.Shape{Rate: rate, Queue: 200 * time.Millisecond}, netem.Shape{})
	// 2 Mbit/s of 1000-byte datagrams (1028 bytes as IP packets) for 3 s.
	as := flow(t, p, true, 750, 1000, 4*time.Millisecond)
	// The rate at which they came out once the queue was full.
	var bytes int
	var first, last time.Time
	for _, a := range as {
		if a.got.Sub(as[0].got) < 500*time.Millisecond {
			continue
		}
		if first.IsZero() {
			first = a.got
		} else {
			bytes += 1028
		}
		last = a.got
	}
	got := float64(bytes*8) / last.Sub(first).Seconds()
	ds := delays(as)
	up, _ := p.Stats()
	p95 := percentile(ds, 95)
	t.Logf("%.0f kbit/s out; %d of 750 through, %d dropped by the queue; delay p95 %v, max %v", got/1000, len(as), up.QueueDrops, p95, ds[len(ds)-1])
	if got < 0.9*rate || got > 1.1*rate {
		t.Errorf("%.0f kbit/s came out, want %d ± 10 %%", got/1000, rate/1000)
	}
	if up.QueueDrops == 0 || up.QueueDrops != 750-len(as) {
		t.Errorf("the queue dropped %d, %d did not arrive; want the same, more than 0", up.QueueDrops, 750-len(as))
	}
	// The 95th percentile: one late wake-up of a busy machine is not the queue's.
	if p95 > 250*time.Millisecond {
		t.Errorf("datagrams waited up to %v (p95), more than the 200 ms queue", p95)
	}
}

func TestBlackoutAndSet(t *testing.T) {
	p := newPeer(t, 15, netem.Shape{}, netem.Shape{})
	// Set starts the profile's clock: the blackout is 300 to 800 ms from now.
	p.Set(netem.Profile{Up: netem.Shape{Blackouts: []netem.Blackout{{At: 300 * time.Millisecond, For: 500 * time.Millisecond}}}})
	set := time.Now()
	as := flow(t, p, true, 240, 200, 5*time.Millisecond)
	var before, during, after int
	for _, a := range as {
		switch t := a.sent.Sub(set); {
		case t < 280*time.Millisecond:
			before++
		case t > 320*time.Millisecond && t < 780*time.Millisecond:
			during++
		case t > 820*time.Millisecond:
			after++
		}
	}
	up, _ := p.Stats()
	t.Logf("through: %d before, %d during, %d after; the link counts %d blacked out", before, during, after, up.Blackout)
	if during != 0 {
		t.Errorf("%d datagrams got through the blackout", during)
	}
	if before < 40 || after < 60 {
		t.Errorf("%d datagrams got through before the blackout and %d after, want about 56 and 76", before, after)
	}
	if up.Blackout < 80 || up.Blackout > 110 {
		t.Errorf("the link counts %d blacked out, want about 100", up.Blackout)
	}
}

// TestTraceRate: a trace's steps change the rate while it runs.
func TestTraceRate(t *testing.T) {
	trace := netem.Trace{{For: time.Second, Rate: 2_000_000}, {For: time.Second, Rate: 400_000}}
	p := newPeer(t, 16, netem.Shape{Trace: trace, Queue: 100 * time.Millisecond}, netem.Shape{})
	p.Set(netem.Profile{Up: netem.Shape{Trace: trace, Queue: 100 * time.Millisecond}})
	flow(t, p, true, 500, 1000, 4*time.Millisecond) // 2 Mbit/s for 2 s
	up, _ := p.Stats()
	if len(up.Seconds) < 2 {
		t.Fatalf("stats for %d seconds, want 2", len(up.Seconds))
	}
	// Offered 250 a second; the first second carries them all, the
	// second about 400 kbit/s: 48 of 1028 bytes.
	first, second := up.Seconds[0], up.Seconds[1]
	t.Logf("second 1: %d offered, %d dropped; second 2: %d offered, %d dropped", first.Packets, first.Dropped, second.Packets, second.Dropped)
	if first.Dropped > 5 {
		t.Errorf("%d dropped at 2 Mbit/s, want none", first.Dropped)
	}
	if through := second.Packets - second.Dropped; through < 35 || through > 70 {
		t.Errorf("%d of %d through at 400 kbit/s, want about 50", through, second.Packets)
	}
}

func TestProfiles(t *testing.T) {
	want := []string{"loss3", "burst", "jitter", "thin", "drop", "wifi"}
	var got []string
	for _, p := range netem.Profiles() {
		got = append(got, p.Name)
		q, err := netem.ByName(p.Name)
		if err != nil || q.Name != p.Name {
			t.Errorf("ByName(%q) = %q, %v", p.Name, q.Name, err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("profiles %v, want %v", got, want)
	}
	if _, err := netem.ByName("lossy"); err == nil || !strings.Contains(err.Error(), `"lossy"`) {
		t.Errorf("ByName(lossy) = %v, want an error naming it", err)
	}
	wifi, _ := netem.ByName("wifi")
	if l := wifi.Up.Trace.Length(); l != 40*time.Second {
		t.Errorf("the wifi trace lasts %v, want 40 s", l)
	}
	if drop, _ := netem.ByName("drop"); drop.Up.Over() != netem.DropAt+netem.DropFor {
		t.Errorf("drop is over after %v, want %v", drop.Up.Over(), netem.DropAt+netem.DropFor)
	}
}

func TestParseTraceErrors(t *testing.T) {
	for _, tt := range []struct{ trace, want string }{
		{"", "no steps"},
		{"# only a comment\n", "no steps"},
		{"1 1000\n", "line 1: 2 fields"},
		{"1 1000 0\nx 1000 0\n", `line 2: field 1, "x"`},
		{"1 1000 -1\n", `line 1: field 3, "-1"`},
		{"0 1000 0\n", "line 1: a step of 0 s"},
		{"1 1 0\n", "line 1: a rate of 1 kbit/s"},
		{"1 1000 101\n", "line 1: a loss of 101 %"},
		{"1 1000 NaN\n", `line 1: field 3, "NaN"`},
	} {
		_, err := netem.ParseTrace(strings.NewReader(tt.trace))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTrace(%q) = %v, want an error with %q", tt.trace, err, tt.want)
		}
	}
}
