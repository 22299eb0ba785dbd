package httpserve

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
)

// A request in flight when ctx ends is answered before Run returns.
func TestRunFinishesTheRequestInFlight(t *testing.T) {
	daemontest.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "answered") // the test's client reads it
	})}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, srv, 10*time.Second, func() error { return srv.Serve(ln) }) }()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	answer := make(chan string, 1)
	go func() {
		resp, err := client.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	<-entered
	cancel()
	select {
	case err := <-ran:
		t.Fatalf("Run returned (%v) while a request was being answered", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-ran; err != nil {
		t.Errorf("Run after ctx ended: %v, want nil", err)
	}
	if got := <-answer; got != "answered" {
		t.Errorf("the request in flight got %q, want its answer", got)
	}
}

// A server that cannot serve says why at once.
func TestRunReturnsTheListenersError(t *testing.T) {
	daemontest.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	srv := &http.Server{}
	if err := Run(t.Context(), srv, time.Second, func() error { return srv.Serve(ln) }); err == nil {
		t.Error("Run on a closed listener returned nil")
	}
}
