# shellcheck shell=sh
# Helpers for scenarios running inside the lab VM (busybox sh). A scenario
# starts with `. /lab/guest.sh` and passes by reaching its end.

# fail records why the scenario failed (the init prints it in the
# LAB-RESULT line) and ends the scenario.
fail() {
	echo "$*" >/tmp/lab-fail-reason
	echo "lab: FAIL: $*"
	exit 1
}

# step prints what the scenario checks next, so a failed run's console log
# shows how far it got.
step() {
	echo "lab: step: $*"
}

# event tells the host-side part of a scenario (NAME.host.sh) that the guest
# reached a point, e.g. `event display-up`; the host waits for
# "LAB-EVENT: display-up" in the console log.
event() {
	echo "LAB-EVENT: $*"
}

# wait_host NAME [SECONDS] waits until the host side writes the line NAME on
# the control channel (lib.sh's `lab_tell_guest NAME`), 30 seconds at most;
# it fails at once when the host side reports its own failure.
wait_host() {
	_deadline=$(($(cut -d. -f1 /proc/uptime) + ${2:-30}))
	while :; do
		_left=$((_deadline - $(cut -d. -f1 /proc/uptime)))
		[ "$_left" -gt 0 ] || return 1
		# shellcheck disable=SC3045 # busybox ash has read -t
		if read -r -t "$_left" _line <&3; then
			_line=${_line%"$(printf '\r')"}
			[ "$_line" = "$1" ] && return 0
			[ "$_line" = host-failed ] && return 1
		fi
	done
}

# wait_for SECONDS COMMAND... retries COMMAND every 0.1s until it succeeds or
# SECONDS pass, then returns 1.
wait_for() {
	_deadline=$(($(cut -d. -f1 /proc/uptime) + $1))
	shift
	while ! "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt "$_deadline" ] || return 1
		sleep 0.1
	done
}

# video_nodes_named NAME prints the /dev/videoN nodes whose sysfs name starts
# with NAME: vivid's "vivid-000-vid-cap", vicodec's "stateful-encoder" and
# "stateful-decoder", vim2m's "vim2m".
video_nodes_named() {
	for _n in /sys/class/video4linux/video*; do
		[ -e "$_n/name" ] || continue
		case $(cat "$_n/name") in
		"$1"*) echo "/dev/${_n##*/}" ;;
		esac
	done
}
