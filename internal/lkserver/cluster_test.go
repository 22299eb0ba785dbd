package lkserver_test

import (
	"context"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/callbox/callbox/internal/lkserver"
)

// startCluster starts Redis and two nodes, each on an address of its
// own, with their logs in the test's temp dir.
func startCluster(t *testing.T, ctx context.Context) *lkserver.Cluster {
	t.Helper()
	c, err := lkserver.StartClusterInNamespace(ctx, 2, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestClusterSharesRooms: a participant that joins through one node and
// one that joins through the other are in one room, which one node holds;
// when that node is killed, the room comes back on the other as they join
// again.
func TestClusterSharesRooms(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startCluster(t, ctx)
	join := func(node *lkserver.Server, identity string) *lksdk.Room {
		t.Helper()
		token, err := node.Token(room, identity)
		if err != nil {
			t.Fatal(err)
		}
		r, err := lksdk.ConnectToRoomWithToken(node.URL, token, &lksdk.RoomCallback{})
		if err != nil {
			t.Fatalf("%s joins through %s: %v", identity, node.URL, err)
		}
		t.Cleanup(r.Disconnect)
		return r
	}
	a := join(c.Nodes[0], "a")
	join(c.Nodes[1], "b")
	waitFor(t, ctx, "a to see b", func() bool { return a.GetParticipantByIdentity("b") != nil })
	holder, err := c.RoomNode(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the room is on %s", holder.URL)
	if err := holder.Kill(); err != nil {
		t.Fatal(err)
	}
	other := c.Nodes[0]
	if other == holder {
		other = c.Nodes[1]
	}
	start := time.Now()
	var again *lksdk.Room
	for again == nil {
		token, _ := other.Token(room, "c")
		r, err := lksdk.ConnectToRoomWithToken(other.URL, token, &lksdk.RoomCallback{})
		if err == nil {
			again = r
			break
		}
		t.Logf("%v: join through the living node: %v", time.Since(start).Round(time.Millisecond), err)
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer again.Disconnect()
	t.Logf("in again after %v", time.Since(start))
	now, err := c.RoomNode(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if now != other {
		t.Errorf("the room is on %s after %s died, want %s", now.URL, holder.URL, other.URL)
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, done func() bool) {
	t.Helper()
	for !done() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
