// Package clustertest starts a real LiveKit cluster (lkserver) with a
// room already on one of its nodes, for tests that kill the node holding
// a call's room. It is for tests only; the cluster itself is lkserver's.
package clustertest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/internal/lkserver"
)

// Room is a two-node cluster whose room lives on Holder; Survivor is the
// other node.
type Room struct {
	Cluster          *lkserver.Cluster
	Holder, Survivor *lkserver.Server
	first            *call.Watcher
	left             sync.Once
}

// Start starts the cluster in the test's namespace and makes the room
// where LiveKit chooses: a participant joins it through the first node
// and stays until LeaveFirst (call it once the test's own participants
// are in, so that the room does not close before).
func Start(t *testing.T, ctx context.Context, room string) *Room {
	t.Helper()
	cluster, err := lkserver.StartClusterInNamespace(ctx, 2, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Close() })
	nodes := cluster.Nodes
	first, err := call.Watch(call.Options{URL: nodes[0].URL, Room: room, Identity: "first",
		APIKey: nodes[0].APIKey, APISecret: nodes[0].APISecret}, call.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	r := &Room{Cluster: cluster, first: first}
	t.Cleanup(r.LeaveFirst)
	if r.Holder, err = cluster.RoomNode(ctx, room); err != nil {
		t.Fatal(err)
	}
	r.Survivor = nodes[slices.Index(nodes, r.Holder)^1]
	return r
}

// LeaveFirst makes the participant that made the room leave it; once.
func (r *Room) LeaveFirst() { r.left.Do(r.first.Leave) }
