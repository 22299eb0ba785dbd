// Package daemontest helps tests run this module's real programs: Build
// compiles one as the box runs it (once per test process), Start runs one
// for the rest of a test, Log keeps what a process writes and lets a test
// wait for a line, Poll waits for what nothing announces (a file another
// process rewrites), CheckGoroutines fails a test that leaves goroutines
// of this module running. It is used by tests, the bench and the lab's
// host side.
package daemontest

import (
	"bytes"
	"context"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Log keeps what a process writes (use it as its Stdout and Stderr) and
// wakes waiters on every write. The zero Log is ready to use.
type Log struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	said chan struct{} // closed and replaced on every write
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.said != nil {
		close(l.said)
	}
	l.said = make(chan struct{})
	return len(p), nil
}

// String is everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Match waits until re matches what was written and returns the match and
// its submatches, or nil when ctx ends first. It may run on any goroutine.
func (l *Log) Match(ctx context.Context, re *regexp.Regexp) []string {
	for {
		l.mu.Lock()
		m := re.FindStringSubmatch(l.buf.String())
		if l.said == nil {
			l.said = make(chan struct{})
		}
		said := l.said
		l.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-said:
		case <-ctx.Done():
			return nil
		}
	}
}

// Wait is Match that fails the test, with the log, after timeout.
func (l *Log) Wait(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m := l.Match(ctx, re)
	if m == nil {
		t.Fatalf("%v was not said within %v:\n%s", re, timeout, l.String())
	}
	return m
}
