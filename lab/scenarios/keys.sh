# shellcheck shell=sh
# keys: the buttons scenario through evdev. First device/gpio's own uinput
# test (gpio.test -test.run Uinput), which must run, not skip. Then
# lab-uinputkeys makes a uinput keyboard "lab keys" with F1, F2 and F3, and
# callboxd starts idle reading it (controls.key_devices) with F1 = call,
# F2 = mute, F3 = hang up. The host checks what a person in the room sees
# (keys.host.sh, lab-hostview keys): nothing before the call key, vivid's
# pictures after it, no sound after mute, nothing after hang up.
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
need_binary lab-uinputkeys
need_binary gpio.test

step "device/gpio's uinput test"
gpio.test -test.run Uinput -test.v >/tmp/gpio-test.log 2>&1 || {
	cat /tmp/gpio-test.log
	fail "gpio.test -test.run Uinput failed: $(grep -m1 -e '--- FAIL' -e 'uinput_test.go' /tmp/gpio-test.log)"
}
cat /tmp/gpio-test.log
grep -q -e '--- SKIP' /tmp/gpio-test.log && fail "gpio.test skipped the uinput test: $(grep -m1 'uinput_test.go' /tmp/gpio-test.log)"
grep -q -e '--- PASS: TestKeysFromAUinputKeyboard' /tmp/gpio-test.log || fail "gpio.test did not run TestKeysFromAUinputKeyboard"

step "a uinput keyboard"
mkfifo /tmp/keys.in
lab-uinputkeys -name "lab keys" KEY_F1 KEY_F2 KEY_F3 </tmp/keys.in >/tmp/uinputkeys.log 2>&1 &
KEYS_PID=$!
exec 4>/tmp/keys.in # opens once lab-uinputkeys opens its end
wait_for 10 grep -q "ready" /tmp/uinputkeys.log || fail "lab-uinputkeys made no keyboard: $(cat /tmp/uinputkeys.log)"
cat /tmp/uinputkeys.log

# press KEY ACTION: one tap of KEY, then the host is told ACTION was pressed.
press() {
	echo "$1" >&4 || fail "lab-uinputkeys is gone: $(tail -n 2 /tmp/uinputkeys.log)"
	wait_for 10 grep -q "pressed $1" /tmp/uinputkeys.log || fail "lab-uinputkeys did not press $1: $(tail -n 2 /tmp/uinputkeys.log)"
	event "pressed-$2"
}

step "asking the host for its call server"
get_call_server

step "callboxd starts idle, reading the keyboard's keys"
callboxd_config /tmp/callbox.toml callbox-keys vivid "" 1280 720 10 tone
cat >>/tmp/callbox.toml <<CONFIG

[controls]
start_in_call = false
key_devices = ["lab keys"]

[controls.keys]
KEY_F1 = "call"
KEY_F2 = "mute"
KEY_F3 = "hang_up"
CONFIG
start_callboxd /tmp/callbox.toml /tmp/callboxd.log
# "controls ready" comes before the key device is open; "reading keys" after.
wait_for 60 grep -q "reading keys" /tmp/callboxd.log || fail "callboxd did not open the uinput keyboard"
event controls-ready

step "the call key"
wait_host press-call 60 || fail "the host side did not ask for the call key"
press KEY_F1 call

step "the mute key"
wait_host press-mute 180 || fail "the host viewer did not see the call (see host.log)"
press KEY_F2 mute

step "the hang-up key"
wait_host press-hang-up 60 || fail "the host heard sound after mute (see host.log)"
press KEY_F3 hang-up

wait_host "done" 60 || fail "the host still saw pictures after hang-up (see host.log)"
callboxd_alive /tmp/callboxd.log
stop_callboxd
exec 4>&- # the end of lab-uinputkeys's input: it removes the keyboard
wait "$KEYS_PID" || fail "lab-uinputkeys failed: $(tail -n 2 /tmp/uinputkeys.log)"
