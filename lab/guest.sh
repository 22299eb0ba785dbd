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

# tell_host NAME VALUE... answers the host side on the control channel
# (lab-hostview's ask), for what must stay out of the console log, such
# as an invite link.
tell_host() {
	echo "$*" >&3
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

# host_says NAME [SECONDS] waits until the host side writes a line
# "NAME VALUE..." on the control channel and prints VALUE...; 30 seconds at
# most. It fails at once when the host side reports its own failure.
host_says() {
	_deadline=$(($(cut -d. -f1 /proc/uptime) + ${2:-30}))
	while :; do
		_left=$((_deadline - $(cut -d. -f1 /proc/uptime)))
		[ "$_left" -gt 0 ] || return 1
		# shellcheck disable=SC3045 # busybox ash has read -t
		if read -r -t "$_left" _line <&3; then
			_line=${_line%"$(printf '\r')"}
			case $_line in
			"$1 "*) echo "${_line#"$1 "}"; return 0 ;;
			host-failed) return 1 ;;
			esac
		fi
	done
}

# --- callboxd in the guest (the camera, audio and faults scenarios) ---

# need_binary NAME fails the scenario unless /usr/local/bin/NAME is there.
need_binary() {
	[ -x "/usr/local/bin/$1" ] ||
		fail "no $1 in the guest: boot with run.sh -b bin/$1 (make lab-test builds and passes it)"
}

# get_call_server asks the host side for its LiveKit server and sets
# CALL_URL, CALL_KEY and CALL_SECRET.
get_call_server() {
	event want-call-server
	_server=$(host_says call-server "${1:-120}") || fail "the host side gave no call server (see host.log)"
	# shellcheck disable=SC2086 # three words: url, key, secret
	set -- $_server
	CALL_URL=$1 CALL_KEY=$2 CALL_SECRET=$3
	[ -n "$CALL_SECRET" ] || fail "the host's call-server line has no url, key and secret: $_server"
}

# callboxd_config FILE IDENTITY CAMERA PIXEL_FORMAT WIDTH HEIGHT FPS MICROPHONE
# writes a callboxd settings file for the host's server: it sends, and shows
# and plays nothing.
callboxd_config() {
	cat >"$1" <<CONFIG
[call]
url = "$CALL_URL"
room = "lab"
identity = "$2"
api_key = "$CALL_KEY"
api_secret = "$CALL_SECRET"
# The host's viewer watches without keys: the lab tests media and devices.
encryption = "none"

[video]
camera = "$3"
pixel_format = "$4"
width = $5
height = $6
fps = $7

[audio]
microphone = "$8"

# Not under test here, and each costs the one TCG CPU: nothing on the
# screen, no speaker. No echo cancellation either: its noise suppression
# takes a steady tone for noise and removes it (the audio scenario's tone
# arrived at RMS 195 of 11585 with it on).
[display]
output = "none"

[speaker]
device = "none"
echo_cancellation = false
CONFIG
}

# start_callboxd CONFIG LOG starts callboxd in the background with its log
# in LOG, also copied to the console, and sets CALLBOXD_PID.
start_callboxd() {
	callboxd -config "$1" >"$2" 2>&1 &
	CALLBOXD_PID=$!
	tail -f "$2" &
	_TAIL_PID=$!
}

# stop_callboxd stops what start_callboxd started and waits for callboxd
# to end; it fails the scenario if callboxd does not stop in 20 seconds.
stop_callboxd() {
	kill "$CALLBOXD_PID" 2>/dev/null || true
	wait_for 20 sh -c "! kill -0 $CALLBOXD_PID 2>/dev/null" || fail "callboxd did not stop within 20s of SIGTERM"
	wait "$CALLBOXD_PID" 2>/dev/null || true
	kill "$_TAIL_PID" 2>/dev/null || true
}

# callboxd_alive fails the scenario if callboxd has exited.
callboxd_alive() {
	kill -0 "$CALLBOXD_PID" 2>/dev/null || fail "callboxd exited: $(tail -n 3 "$1" | tr '\n' ' ')"
}
