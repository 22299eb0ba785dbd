package main

import (
	"context"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
)

// TestSomeoneAlreadyThere: a person in the room before the box joins, who
// sends nothing, is still among the members the screen and page are told.
func TestSomeoneAlreadyThere(t *testing.T) {
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
	defer func() { cancel(); <-done }()

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
