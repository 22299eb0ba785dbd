# shellcheck shell=sh
# buttons: callboxd starts idle with its buttons and status LED on the
# gpio-sim chip (lines call, hangup, mute, led-status); each press pulls a
# line up and down again through sysfs. The host checks what a person in
# the room sees (buttons.host.sh, lab-hostview buttons): nothing before the
# call button, vivid's pictures after it, no sound after mute, nothing after
# hang up. Here: the status LED is steady in the call and dark after.
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
chip=${LAB_GPIOCHIP##*/}
sim=$LAB_GPIO_DEVICE/$chip

# press OFFSET: a person's press, longer than any debounce.
press() {
	echo pull-up >"$sim/sim_gpio$1/pull" || fail "cannot pull line $1 up"
	sleep 0.3
	echo pull-down >"$sim/sim_gpio$1/pull" || fail "cannot pull line $1 down"
}

# led_samples prints the status LED's value (line 3) ten times in a second.
led_samples() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		cat "$sim/sim_gpio3/value"
		sleep 0.1
	done | tr -d '\n'
}
led_steady() { [ "$(led_samples)" = 1111111111 ]; }
led_dark() { [ "$(led_samples | tr -d 0 | wc -c)" -le 2 ]; } # idle blips 0.1 s every 3 s

step "asking the host for its call server"
get_call_server

step "callboxd starts idle, with buttons on $chip"
callboxd_config /tmp/callbox.toml callbox-buttons vivid "" 1280 720 10 tone
cat >>/tmp/callbox.toml <<CONFIG

[controls]
start_in_call = false

[controls.buttons.call]
line = "call"

[controls.buttons.hang_up]
line = "hangup"

[controls.buttons.mute]
line = "mute"

[controls.leds.status]
line = "led-status"
CONFIG
start_callboxd /tmp/callbox.toml /tmp/callboxd.log
wait_for 60 grep -q "controls ready" /tmp/callboxd.log || fail "callboxd did not say its controls are ready"
led_dark || fail "the status LED is not dark while idle: $(led_samples)"
event controls-ready

step "the call button"
wait_host press-call 60 || fail "the host side did not ask for the call button"
press 0
event pressed-call
wait_for 60 led_steady || fail "the status LED is not steady in the call: $(led_samples)"

step "the mute button"
wait_host press-mute 180 || fail "the host viewer did not see the call (see host.log)"
press 2
event pressed-mute

step "the hang-up button"
wait_host press-hang-up 60 || fail "the host heard sound after mute (see host.log)"
press 1
event pressed-hang-up
wait_for 30 led_dark || fail "the status LED is not dark after hanging up: $(led_samples)"

wait_host "done" 60 || fail "the host still saw pictures after hang-up (see host.log)"
callboxd_alive /tmp/callboxd.log
stop_callboxd
