package call

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

func TestSummarySaysWhatGoesOn(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	refused := fmt.Errorf("the call server at ws://x refuses connections (is it running?): %w", syscall.ECONNREFUSED)
	relayed := Path{Via: "relayed over TURN/TLS", Why: "UDP seems blocked on this network"}
	tests := []struct {
		name string
		st   Status
		want string // Line
	}{
		{"idle", Status{State: Idle}, "not in a call"},
		{"joining", Status{State: Joining}, "joining the call"},
		{"in the call", Status{State: InCall, Since: now.Add(-time.Minute), Path: Path{Via: "direct over UDP"}}, "in the call"},
		{"relayed", Status{State: InCall, Since: now.Add(-time.Minute), Path: relayed},
			"in the call, relayed over TURN/TLS: UDP seems blocked on this network"},
		{"just back", Status{State: InCall, Back: true, Since: now.Add(-2 * time.Second)}, "back in the call"},
		{"back a while", Status{State: InCall, Back: true, Since: now.Add(-backFor)}, "in the call"},
		{"network dropped", Status{State: Reconnecting, Since: now.Add(-12400 * time.Millisecond)},
			"reconnecting: the network dropped 12 s ago"},
		{"long ago", Status{State: Reconnecting, Since: now.Add(-125 * time.Second)},
			"reconnecting: the network dropped 2 min 5 s ago"},
		{"server gone", Status{State: Reconnecting, Since: now.Add(-3 * time.Second), Err: refused},
			"reconnecting: the call server went away 3 s ago — " + refused.Error()},
		{"failed", Status{State: Failed, Err: errors.New("UDP seems blocked")}, "not in the call — UDP seems blocked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.st.Text(now); got != tt.want {
				t.Errorf("Line = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServerAddr(t *testing.T) {
	for url, want := range map[string]string{
		"ws://10.99.0.1:7880":          "10.99.0.1:7880",
		"wss://calls.example.org":      "calls.example.org:443",
		"https://calls.example.org/lk": "calls.example.org:443",
		"http://calls.example.org":     "calls.example.org:80",
		"wss://[2001:db8::1]:8443":     "[2001:db8::1]:8443",
	} {
		if got, err := serverAddr(url); err != nil || got != want {
			t.Errorf("serverAddr(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
}

// TestSilence: the box says the network dropped only when it sent and
// heard nothing back for silentAfter.
func TestSilence(t *testing.T) {
	now := time.Now()
	at := func(ago time.Duration) int64 { return now.Add(-ago).UnixNano() }
	tests := []struct {
		name        string
		heard, sent time.Duration // how long ago
		silent      bool
	}{
		{"reports come", 500 * time.Millisecond, 10 * time.Millisecond, false},
		{"no report while sending", 4 * time.Second, 10 * time.Millisecond, true},
		{"nothing sent (muted, camera off)", 10 * time.Second, 9 * time.Second, false},
		{"not yet long enough", 2 * time.Second, 10 * time.Millisecond, false},
	}
	for _, tt := range tests {
		s := New(Options{})
		s.heard.Store(at(tt.heard))
		s.sent.Store(at(tt.sent))
		since, silent := s.silentSince(now)
		if silent != tt.silent {
			t.Errorf("%s: silent %v, want %v", tt.name, silent, tt.silent)
		}
		if silent && !since.Equal(time.Unix(0, at(tt.heard))) {
			t.Errorf("%s: silent since %v, want when last heard", tt.name, since)
		}
	}
}

// TestWaitRetryEndsWhenTheServerComesBack: after a join that found the
// server unreachable, the box tries again as soon as it answers, not after
// the whole wait.
func TestWaitRetryEndsWhenTheServerComesBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down
	s := New(Options{URL: "ws://" + addr})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		up, err := net.Listen("tcp", addr)
		if err != nil {
			return // taken meanwhile: the wait below runs its course and fails the test
		}
		t.Cleanup(func() { up.Close() })
	}()
	start := time.Now()
	s.waitRetry(context.Background(), 20*time.Second, fmt.Errorf("dial: %w", syscall.ECONNREFUSED))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("waited %v for a server that was back after 1.5 s", took)
	}

	// A server that answered with a refusal of another kind is not
	// hammered: the wait runs its course.
	start = time.Now()
	s.waitRetry(context.Background(), 300*time.Millisecond, errors.New("401 unauthorized"))
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("waited %v after a refusal, want the whole 300 ms", took)
	}
}

func TestUnreachable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		{&net.DNSError{Err: "no such host", Name: "calls.example.org"}, true},
		{errors.New("401 unauthorized"), false},
		{&noMediaPathError{err: errors.New("could not connect after timeout")}, false},
	} {
		if got := unreachable(tt.err); got != tt.want {
			t.Errorf("unreachable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestSilenceCountsFromTheFirstFrameSent: a box that sent nothing for a
// while (its line, before the answer) and starts sending is not taken for
// one whose call server went silent; one that goes on sending with no
// report for silentAfter is.
func TestSilenceCountsFromTheFirstFrameSent(t *testing.T) {
	var s Session
	joined := time.Now().Add(-8 * time.Second)
	s.heard.Store(joined.UnixNano()) // the last report: at the join, 8 s ago
	s.sent.Store(joined.UnixNano())
	s.noteSent() // the answer: sending starts now
	if since, quiet := s.silentSince(time.Now().Add(100 * time.Millisecond)); quiet {
		t.Fatalf("sending for 100 ms after 8 s of nothing sent: taken for silence since %v", since)
	}
	s.noteSent()
	if _, quiet := s.silentSince(time.Now().Add(silentAfter + 10*time.Millisecond)); quiet {
		t.Fatal("the last frame sent just now: no silence can be judged yet")
	}
	s.sent.Store(time.Now().Add(silentAfter + 10*time.Millisecond).UnixNano()) // sending on, nothing heard
	if _, quiet := s.silentSince(time.Now().Add(silentAfter + 20*time.Millisecond)); !quiet {
		t.Fatal("sending on with no report for silentAfter: not taken for silence")
	}
}
