package provisioning

import (
	"sync"
	"time"
)

// backOff slows down password and setup-code guessing by attempts, not by
// answers: a guess takes an attempt (reserve) before it is checked (the
// argon2id hash takes a while), and gives it back or turns it into a
// failure once checked (settle). Each client (by IP address) has
// freeAttempts attempts in flight or failed; after that one attempt at a
// time, each after a wait that doubles with each failure, up to maxWait,
// however many guesses are sent at once. A right guess clears the
// client's failures. Records unused for forgetAfter are dropped, so the
// table cannot grow without bound.
type backOff struct {
	now func() time.Time

	mu      sync.Mutex
	clients map[string]*attempts // guarded by mu
}

type attempts struct {
	failed    int // wrong guesses in the window
	inFlight  int // guesses being checked now
	lastFail  time.Time
	nextAllow time.Time
}

// outcome is what a checked attempt turned out to be.
type outcome int

const (
	unchecked  outcome = iota // no guess was checked (a bad request, setup closed): given back
	guessWrong                // counts as a failure
	guessRight                // clears the client's failures
)

const (
	freeAttempts = 5
	firstWait    = time.Second
	maxWait      = 15 * time.Minute
	forgetAfter  = time.Hour
	maxClients   = 10000
	// manyClients holds the newcomers once the table is full: a flood of
	// addresses shares one record rather than getting in unlimited.
	manyClients = "(many)"
)

func newBackOff(now func() time.Time) *backOff {
	return &backOff{now: now, clients: map[string]*attempts{}}
}

// reserve takes an attempt for client before its guess is checked. It
// returns the record to settle it with, or, when the client may not try
// now, how long it must wait.
func (b *backOff) reserve(client string) (key string, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	key = client
	a, ok := b.clients[key]
	if !ok && len(b.clients) >= maxClients {
		b.forgetOld(now)
		if len(b.clients) >= maxClients {
			key = manyClients
			a, ok = b.clients[key]
		}
	}
	if !ok {
		a = &attempts{}
		b.clients[key] = a
	}
	if a.inFlight == 0 && a.failed > 0 && now.Sub(a.lastFail) > forgetAfter {
		*a = attempts{} // a new window
	}
	switch {
	case a.failed+a.inFlight < freeAttempts:
	case a.inFlight > 0: // past the free ones, one at a time
		return "", max(a.nextAllow.Sub(now), firstWait)
	case now.Before(a.nextAllow):
		return "", a.nextAllow.Sub(now)
	}
	a.inFlight++
	return key, 0
}

// settle ends an attempt that reserve took, as it turned out.
func (b *backOff) settle(key string, o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.clients[key]
	if !ok {
		return
	}
	a.inFlight--
	now := b.now()
	switch o {
	case guessWrong:
		a.failed++
		a.lastFail = now
		if a.failed >= freeAttempts {
			a.nextAllow = now.Add(min(firstWait<<min(a.failed-freeAttempts, 20), maxWait))
		}
	case guessRight:
		a.failed, a.nextAllow = 0, time.Time{}
	}
	if a.failed == 0 && a.inFlight == 0 {
		delete(b.clients, key)
	}
}

// forgetOld drops the records of clients that have not failed for
// forgetAfter and have nothing in flight.
func (b *backOff) forgetOld(now time.Time) {
	for c, a := range b.clients {
		if a.inFlight == 0 && now.Sub(a.lastFail) > forgetAfter {
			delete(b.clients, c)
		}
	}
}
