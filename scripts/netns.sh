#!/usr/bin/env bash
# netns.sh up|down|exec CMD...: the network namespace `callbox` for make run
# (CALLBOX_NETNS names another, for tests). It holds lo and the veth pair
# cbx0/cbx1 with 10.99.0.1/24 on cbx0: pion leaves loopback out of ICE, so a
# call needs an address like that, and in here nothing reaches the host's
# network. Needs root (ip netns). With CALLBOX_CLUSTER=N, up also puts
# 10.99.0.11 … 10.99.0.(10+N) on cbx0: the nodes of make run CLUSTER=N
# (lkserver.NodeAddrs).
#
# exec becomes the command (its process id is the command's, so a signal to
# it reaches the command), and down ends every process still in the
# namespace before removing it: a process left in a deleted namespace runs
# on, unreachable.
set -euo pipefail

ns=${CALLBOX_NETNS:-callbox}
addr=10.99.0.1/24

in_ns() { ip netns exec "$ns" "$@"; }
exists() { [ -e "/run/netns/$ns" ]; }

case "${1:-}" in
up)
	exists || ip netns add "$ns"
	in_ns ip link set lo up
	in_ns ip link show cbx0 >/dev/null 2>&1 || in_ns ip link add cbx0 type veth peer name cbx1
	in_ns ip addr replace "$addr" dev cbx0
	for i in $(seq "${CALLBOX_CLUSTER:-0}"); do
		in_ns ip addr replace "10.99.0.$((10 + i))/24" dev cbx0
	done
	in_ns ip link set cbx0 up
	in_ns ip link set cbx1 up
	;;
down)
	exists || exit 0
	pids=$(ip netns pids "$ns")
	if [ -n "$pids" ]; then
		kill -TERM $pids 2>/dev/null || true
		for _ in $(seq 50); do # 5 s to leave cleanly
			[ -z "$(ip netns pids "$ns")" ] && break
			sleep 0.1
		done
		pids=$(ip netns pids "$ns")
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	fi
	ip netns delete "$ns"
	;;
exec)
	shift
	[ $# -gt 0 ] || { echo "usage: $0 exec CMD [ARG...]" >&2; exit 2; }
	exec ip netns exec "$ns" "$@"
	;;
*)
	echo "usage: $0 up|down|exec CMD [ARG...]" >&2
	exit 2
	;;
esac
