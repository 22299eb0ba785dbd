#!/usr/bin/env bash
# make run: a LiveKit server and callboxd in a private network namespace
# (WebRTC in pion never uses loopback, so 127.0.0.1 alone cannot carry a
# call), the camera at /dev/video0 or the test pattern, until Ctrl-C.
# CLUSTER=N (make run CLUSTER=2): a cluster of N LiveKit nodes sharing
# Redis instead of one server, each on its own address; the box's
# call.url lists them all.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	exec sudo --preserve-env=HOME,XDG_CACHE_HOME,PATH,CLUSTER "$0" "$@"
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/callbox/run"
mkdir -p "$cache"
config="$cache/callbox.toml"

camera=testpattern
[ -e /dev/video0 ] && camera=/dev/video0
microphone=tone
compgen -G "/dev/snd/pcmC*D*c" >/dev/null && microphone=default

cluster=${CLUSTER:-}
case $cluster in
'' | 0 | 1) cluster= ;;
[2-9]) ;;
*)
	echo "CLUSTER=$cluster: a cluster of 2 to 9 nodes, or none" >&2
	exit 2
	;;
esac
CALLBOX_CLUSTER=${cluster:-0} scripts/netns.sh up
pids=() # netns.sh exec becomes the command: these are the programs themselves
cleanup() { # netns.sh down also ends whatever else is left in the namespace
	trap - INT TERM EXIT
	[ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	scripts/netns.sh down
	echo "stopped"
}
trap cleanup INT TERM EXIT

rm -f "$config"
server_log="$cache/livekit.log"
server_args=(-log "$server_log")
if [ -n "$cluster" ]; then
	server_log="$cache/cluster" # redis.log, node-1.log, …
	mkdir -p "$server_log"
	server_args=(-cluster "$cluster" -log "$server_log")
fi
scripts/netns.sh exec bin/devserver -config "$config" -camera "$camera" -microphone "$microphone" \
	"${server_args[@]}" &
pids+=($!)
for _ in $(seq 100); do
	[ -s "$config" ] && break
	sleep 0.2
done
[ -s "$config" ] || { echo "the LiveKit server did not start; see $server_log" >&2; exit 1; }

# The local API lets callboxctl view ask the box for an invite: calls are
# end-to-end encrypted, and only members get keys.
scripts/netns.sh exec bin/callboxd -config "$config" -control "$cache/control.sock" &
pids+=($!)

cat <<MSG

Callbox is running: camera $camera, microphone $microphone, settings in $config.
To watch the call, in another terminal:

    sudo scripts/netns.sh exec bin/callboxctl view -config $config -socket $cache/control.sock

and open $(dirname "$(mktemp -u)")/callbox-view/latest.png (it is renewed every second).
${cluster:+The call servers are a cluster of $cluster nodes (their processes above); to see the
box go on through another when one dies: sudo kill -KILL PROCESS.
}Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
