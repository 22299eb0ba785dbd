// Package netem emulates the network between a participant and the call
// server, the way Mahimahi's mm-delay and mm-link do: this program sits
// between two TUN devices (netns.TUNLink) and, for each packet, loses it
// (at random, in Gilbert-Elliott bursts, as a trace says, or in a
// blackout), queues it behind a rate limit, and holds it for a delay with
// jitter before it goes on. This machine's kernel has no netem qdisc, so
// delay and jitter need a program.
//
// It owns the packets of the links it is given and the profiles tests and
// the bench use (profile.go). It must not touch any other device, and it
// keeps packets in order: jitter varies the delay, as a queue does, but
// never swaps two packets.
package netem

import (
	"errors"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/callbox/callbox/internal/netns"
)

// Link moves packets between the two devices of a TUNLink, shaping each
// direction as its Profile says, until Close.
type Link struct {
	tun      *netns.TUNLink
	up, down *pipe
	done     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

// Start moves tun's packets under profile p: what the peer sends (read
// from tun.Inner) is shaped by p.Up, what it receives by p.Down. The link
// owns tun from now on: Close closes it.
func Start(tun *netns.TUNLink, p Profile) *Link {
	l := &Link{tun: tun, done: make(chan struct{}),
		up: newPipe(tun.Inner, tun.Outer), down: newPipe(tun.Outer, tun.Inner)}
	l.Set(p)
	for _, pp := range []*pipe{l.up, l.down} {
		l.wg.Go(pp.read)
		l.wg.Go(func() { pp.deliver(l.done) })
	}
	return l
}

// Set shapes the link with p from now on; p's clock (its blackouts, its
// trace) starts now, and so do the Stats. Packets already on their way
// keep their times.
func (l *Link) Set(p Profile) {
	now := time.Now()
	l.up.set(p.Up, now)
	l.down.set(p.Down, now)
}

// Stats says what happened to the packets the peer sent (up) and received
// (down) since the profile was Set.
func (l *Link) Stats() (up, down Stats) { return l.up.snapshot(), l.down.snapshot() }

// Close stops moving packets and closes the devices. Packets still held
// are lost, as on a cable pulled out.
func (l *Link) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.tun.Close() // ends the reads
		l.wg.Wait()
	})
	return err
}

// Stats counts one direction's packets.
type Stats struct {
	// Since is when the profile was Set.
	Since time.Time
	// Packets and Bytes were offered to the link (IP packets, headers
	// included); Delivered packets came out of the other end.
	Packets, Bytes, Delivered int
	// Lost at random, in bursts or as the trace says; dropped in a
	// Blackout; dropped because the rate limit's Queue was full.
	Lost, Blackout, QueueDrops int
	// Seconds is what was offered and dropped in each whole second since
	// Since, for rates over time.
	Seconds []Second
}

// Second is one second of a direction's traffic.
type Second struct {
	Packets, Bytes int // offered
	Dropped        int // lost, blacked out or over the queue
}

// Dropped is every packet the link did not let through.
func (s Stats) Dropped() int { return s.Lost + s.Blackout + s.QueueDrops }

type packet struct {
	data []byte
	at   time.Time // when it leaves the link
}

// pipe is one direction of a link.
type pipe struct {
	in, out *os.File
	queue   chan packet // in the order, and so the times, they leave

	mu          sync.Mutex // guards what follows
	shape       Shape
	since       time.Time
	rng         *rand.Rand
	inBurst     bool      // Gilbert-Elliott's bad state
	busyUntil   time.Time // when the rate-limited link has sent what it holds
	lastRelease time.Time // packets never overtake
	stats       Stats
}

// queued bounds the packets held at once: at 10 Mbit/s, 1 s of 1200-byte packets.
const queued = 1 << 10

func newPipe(in, out *os.File) *pipe {
	return &pipe{in: in, out: out, queue: make(chan packet, queued),
		rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

func (p *pipe) set(s Shape, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shape, p.since, p.inBurst = s, now, false
	p.stats = Stats{Since: now}
}

func (p *pipe) snapshot() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Seconds = append([]Second(nil), s.Seconds...)
	return s
}

// read takes the packets entering this direction until the device closes.
func (p *pipe) read() {
	defer close(p.queue)
	buf := make([]byte, 1<<16)
	for {
		n, err := p.in.Read(buf)
		if err != nil {
			return // closed, or the device is gone with its namespace
		}
		at, ok := p.admit(time.Now(), n)
		if !ok {
			continue
		}
		select {
		case p.queue <- packet{data: append([]byte(nil), buf[:n]...), at: at}:
		default: // more held than any profile here needs: a full buffer
			p.mu.Lock()
			p.stats.QueueDrops++
			p.mu.Unlock()
		}
	}
}

// admit decides a packet's fate on arrival: lost, or when it leaves.
func (p *pipe) admit(now time.Time, size int) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := now.Sub(p.since)
	sec := p.second(t)
	sec.Packets++
	sec.Bytes += size
	p.stats.Packets++
	p.stats.Bytes += size
	s := p.shape
	if s.blackedOut(t) {
		p.stats.Blackout++
		sec.Dropped++
		return time.Time{}, false
	}
	rate, loss := s.Rate, s.Loss
	if len(s.Trace) > 0 {
		step := s.Trace.at(t)
		rate, loss = step.Rate, 1-(1-loss)*(1-step.Loss)
	}
	if p.lose(s.Burst, loss) {
		p.stats.Lost++
		sec.Dropped++
		return time.Time{}, false
	}
	leaves := now
	if rate > 0 {
		// A drop-tail queue in front of a link of this rate: the packet
		// waits for those ahead of it to be sent, unless that is longer
		// than the queue holds.
		p.busyUntil = later(p.busyUntil, now)
		if p.busyUntil.Sub(now) > s.queue() {
			p.stats.QueueDrops++
			sec.Dropped++
			return time.Time{}, false
		}
		p.busyUntil = p.busyUntil.Add(time.Duration(float64(size*8) / float64(rate) * float64(time.Second)))
		leaves = p.busyUntil
	}
	leaves = leaves.Add(s.Delay)
	if s.Jitter > 0 {
		leaves = leaves.Add(time.Duration((2*p.rng.Float64() - 1) * float64(s.Jitter)))
	}
	leaves = later(leaves, p.lastRelease)
	p.lastRelease = leaves
	return leaves, true
}

// lose draws whether a packet is lost: at random with probability loss,
// and with b.Loss while in a burst (Gilbert-Elliott: a burst starts after
// a packet with probability b.Start and ends with b.End).
func (p *pipe) lose(b Burst, loss float64) bool {
	if b.Start > 0 {
		if p.inBurst {
			p.inBurst = p.rng.Float64() >= b.End
		} else {
			p.inBurst = p.rng.Float64() < b.Start
		}
		if p.inBurst && p.rng.Float64() < b.Loss {
			return true
		}
	}
	return loss > 0 && p.rng.Float64() < loss
}

// second is the Stats entry of the second t falls into; p.mu is held.
func (p *pipe) second(t time.Duration) *Second {
	i := max(0, int(t/time.Second))
	for len(p.stats.Seconds) <= i {
		p.stats.Seconds = append(p.stats.Seconds, Second{})
	}
	return &p.stats.Seconds[i]
}

// deliver hands each packet on when its time comes, until the reading
// side ends or done closes.
func (p *pipe) deliver(done <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for pkt := range p.queue {
		if wait := time.Until(pkt.at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-done:
				return
			}
		}
		if _, err := p.out.Write(pkt.data); err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			continue // the other side refused this one (its device down)
		}
		p.mu.Lock()
		p.stats.Delivered++
		p.mu.Unlock()
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
