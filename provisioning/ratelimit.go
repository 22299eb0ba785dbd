package provisioning

import (
	"sync"
	"time"
)

// backOff slows down password and setup-code guessing: each client (by IP
// address) may fail freeAttempts times; after that every further try must
// wait, twice as long after each failure, up to maxWait. A success clears
// the client's record. Records older than forgetAfter are dropped, so the
// table cannot grow without bound.
type backOff struct {
	now func() time.Time

	mu      sync.Mutex
	clients map[string]*failures
}

type failures struct {
	count     int
	lastFail  time.Time
	nextAllow time.Time
}

const (
	freeAttempts = 5
	firstWait    = time.Second
	maxWait      = 15 * time.Minute
	forgetAfter  = time.Hour
	maxClients   = 10000
)

func newBackOff(now func() time.Time) *backOff {
	return &backOff{now: now, clients: map[string]*failures{}}
}

// wait returns how long client must wait before it may try again; zero
// means it may try now.
func (b *backOff) wait(client string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.clients[client]
	if !ok && len(b.clients) >= maxClients {
		f, ok = b.clients["(many)"] // see failed
	}
	if !ok {
		return 0
	}
	now := b.now()
	if now.Sub(f.lastFail) > forgetAfter {
		delete(b.clients, client)
		return 0
	}
	if d := f.nextAllow.Sub(now); d > 0 {
		return d
	}
	return 0
}

// failed records a wrong password or setup code.
func (b *backOff) failed(client string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if len(b.clients) >= maxClients {
		for c, f := range b.clients {
			if now.Sub(f.lastFail) > forgetAfter {
				delete(b.clients, c)
			}
		}
	}
	f, ok := b.clients[client]
	if !ok {
		if len(b.clients) >= maxClients {
			// A flood of addresses: lump the newcomers together rather
			// than let them in unlimited or grow the table.
			client = "(many)"
			if f, ok = b.clients[client]; !ok {
				f = &failures{}
				b.clients[client] = f
			}
		} else {
			f = &failures{}
			b.clients[client] = f
		}
	}
	f.count++
	f.lastFail = now
	if f.count >= freeAttempts {
		wait := firstWait << min(f.count-freeAttempts, 20)
		f.nextAllow = now.Add(min(wait, maxWait))
	}
}

// succeeded clears client's failures.
func (b *backOff) succeeded(client string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.clients, client)
}
