#!/usr/bin/env bash
# netns.sh up|down|exec CMD...: the network namespace `callbox` for make run.
# It holds lo and the veth pair cbx0/cbx1 with 10.99.0.1/24 on cbx0: pion
# leaves loopback out of ICE, so a call needs an address like that, and in
# here nothing reaches the host's network. Needs root (ip netns).
set -euo pipefail

ns=callbox
addr=10.99.0.1/24

in_ns() { ip netns exec "$ns" "$@"; }
exists() { [ -e "/run/netns/$ns" ]; }

case "${1:-}" in
up)
	exists || ip netns add "$ns"
	in_ns ip link set lo up
	in_ns ip link show cbx0 >/dev/null 2>&1 || in_ns ip link add cbx0 type veth peer name cbx1
	in_ns ip addr replace "$addr" dev cbx0
	in_ns ip link set cbx0 up
	in_ns ip link set cbx1 up
	;;
down)
	if exists; then ip netns delete "$ns"; fi
	;;
exec)
	shift
	[ $# -gt 0 ] || { echo "usage: $0 exec CMD [ARG...]" >&2; exit 2; }
	in_ns "$@"
	;;
*)
	echo "usage: $0 up|down|exec CMD [ARG...]" >&2
	exit 2
	;;
esac
