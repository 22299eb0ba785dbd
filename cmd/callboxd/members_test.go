package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/media"
)

// TestSomeoneAlreadyThere: a person in the room before the box joins, who
// sends nothing, is still among the members the screen and page are told.
func TestSomeoneAlreadyThere(t *testing.T) {
	daemontest.CheckGoroutines(t)
	srv := startServer(t)
	early, err := call.Watch(call.Options{URL: srv.URL, Room: "early", Identity: "ada", Name: "Ada",
		APIKey: srv.APIKey, APISecret: srv.APISecret}, call.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	defer early.Leave()

	members := make(chan []call.Member, 16)
	s := call.New(call.Options{URL: srv.URL, Room: "early", Identity: "box",
		APIKey: srv.APIKey, APISecret: srv.APISecret, MaxVideoBitrate: 500_000,
		Remote: call.RemoteOptions{OnMembers: func(m []call.Member) { members <- m }}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	deadline := time.After(15 * time.Second)
	for {
		select {
		case m := <-members:
			if len(m) == 1 && m[0].Identity == "ada" && m[0].Name == "Ada" {
				return
			}
		case <-deadline:
			t.Fatalf("the box was never told Ada was in the room (state %v)", s.Status().State)
		}
	}
}

// TestNoHandlerRunsAfterTheCallEnds: once the session's Run has returned,
// nothing hands the box another participant's frame, so the receive side
// may close its mixer and screen: the goroutines that receive the tracks
// have ended, not only been told to.
func TestNoHandlerRunsAfterTheCallEnds(t *testing.T) {
	daemontest.CheckGoroutines(t)
	srv := startServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	left := startSender(t, ctx, srv, "after", senders[0])

	var ended atomic.Bool
	var late atomic.Int32
	arrived := make(chan call.Frame, 1)
	handle := func(f call.Frame) {
		if ended.Load() {
			late.Add(1)
		}
		select {
		case arrived <- f:
		default:
		}
	}
	box := call.New(call.Options{URL: srv.URL, Room: "after", Identity: "box", APIKey: srv.APIKey, APISecret: srv.APISecret,
		Logger: quietLog, Remote: call.RemoteOptions{Handlers: call.Handlers{Video: handle, Audio: handle}}})
	boxCtx, hangUp := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- box.Run(boxCtx) }()
	got := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for !got["video"] || !got["audio"] {
		select {
		case f := <-arrived:
			kind := "video"
			if f.Codec == media.CodecOpus {
				kind = "audio"
			}
			got[kind] = true
		case <-deadline:
			t.Fatalf("the box received %v of alice's call within 30 s", got)
		}
	}
	hangUp()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ended.Store(true)
	if n := daemontest.Running("github.com/callbox/callbox/call.receiveTrack"); n > 0 {
		t.Errorf("%d goroutines still receive tracks after Run returned", n)
	}
	cancel()
	<-left
	if n := late.Load(); n > 0 {
		t.Errorf("handlers ran %d times after Run returned", n)
	}
}
