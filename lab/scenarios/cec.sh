# shellcheck shell=sh
# cec: the TV wakes up for a call. vivid's HDMI input and output have CEC
# adapters on one emulated bus (kernel.config): lab-cectv plays the TV on
# the input's (/dev/cec0, physical address 0.0.0.0); callboxd, with its
# line (ring.enabled) and cec.device = auto, takes the output's
# (/dev/cec1, 1.0.0.0). The host's viewer in the box's line is the caller:
# the box rings, and the TV must receive Image View On and Active Source
# 1.0.0.0 from it. Then the TV's remote sends Select: the box answers and
# the host sees vivid's pictures (cec.host.sh, lab-hostview cec). Then
# Back: the box hangs up, the TV receives Inactive Source 1.0.0.0, and the
# host sees no more pictures.
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
need_binary lab-cectv

step "the CEC adapters"
ls -l /dev/cec* || fail "no /dev/cec*: the kernel lacks CONFIG_VIDEO_VIVID_CEC, or vivid has no HDMI input and output"

step "the TV on /dev/cec0"
mkfifo /tmp/tv.in
lab-cectv -device /dev/cec0 </tmp/tv.in >/tmp/tv.log 2>&1 &
TV_PID=$!
exec 4>/tmp/tv.in
wait_for 10 grep -q "ready" /tmp/tv.log || fail "lab-cectv did not claim the TV's address: $(cat /tmp/tv.log)"
cat /tmp/tv.log

# received BYTES WHAT: waits for the TV to receive BYTES from the box.
received() {
	wait_for 60 grep -q "received $1\$" /tmp/tv.log || {
		cat /tmp/tv.log
		fail "the TV did not receive $2 ($1) from the box"
	}
	echo "the TV received $2: $1"
}

# press KEY ACTION: the TV's remote sends KEY to the box; the host is told.
press() {
	echo "$1" >&4 || fail "lab-cectv is gone: $(tail -n 2 /tmp/tv.log)"
	wait_for 10 grep -q "pressed $1" /tmp/tv.log || fail "lab-cectv did not send $1: $(tail -n 2 /tmp/tv.log)"
	event "pressed-$2"
}

step "asking the host for its call server"
get_call_server

step "callboxd waits in its line, the host's viewer in it: the box rings"
callboxd_config /tmp/callbox.toml callbox-cec vivid "" 1280 720 10 tone
cat >>/tmp/callbox.toml <<CONFIG

[controls]
start_in_call = false

[ring]
enabled = true
timeout_s = 300

[cec]
enabled = true
device = "auto"
CONFIG
start_callboxd /tmp/callbox.toml /tmp/callboxd.log
wait_for 60 grep -q "HDMI-CEC ready" /tmp/callboxd.log || fail "callboxd did not open a CEC adapter: $(grep -m3 CEC /tmp/callboxd.log)"
grep -m1 "HDMI-CEC ready" /tmp/callboxd.log
grep -q "HDMI-CEC ready.*device=/dev/cec1" /tmp/callboxd.log || fail "callboxd chose another adapter than vivid's HDMI output /dev/cec1"

step "the TV wakes up and switches to the box"
received "40 04" "Image View On"
received "4f 82 10 00" "Active Source 1.0.0.0"
event tv-woken

step "the TV remote's Select answers"
wait_host press-answer 120 || fail "the host saw pictures while the box rang (see host.log)"
press select answer
wait_for 30 grep -q "action=answer" /tmp/callboxd.log || fail "callboxd did not take the TV's Select as answer: $(grep CEC /tmp/callboxd.log | tail -n 3)"

step "the TV remote's Back hangs up; the TV gets its input back"
wait_host press-hang-up 180 || fail "the host did not see the call after Select (see host.log)"
press back hang-up
received "40 9d 10 00" "Inactive Source 1.0.0.0"
event tv-given-back

wait_host "done" 60 || fail "the host still saw pictures after Back (see host.log)"
callboxd_alive /tmp/callboxd.log
stop_callboxd
exec 4>&-
wait "$TV_PID" || fail "lab-cectv failed: $(tail -n 2 /tmp/tv.log)"
