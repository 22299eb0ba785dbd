# shellcheck shell=sh
# screen: callboxd shows the call on the bochs display through DRM/KMS
# (display.output = "drm": dumb buffers, mode set, page flips) while the
# host publishes a remote participant with the test pattern. The host takes
# QMP screendumps and checks the grid (screen.host.sh, lab-hostview screen):
# the remote's tile holds its pattern with a readable stamp that advances,
# its name label, and the status line. Here: callboxd opened the DRM card,
# not something else, and saw the remote join.
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
[ -c /dev/dri/card0 ] || fail "no /dev/dri/card0 (bochs-drm)"

step "asking the host for its call server"
get_call_server

step "callboxd shows the call on /dev/dri/card0"
# The box's own camera is the test pattern, small: the one TCG CPU also
# decodes the remote and composes the screen. The screen is redrawn 10 times
# a second, plenty for a screendump and a third of the default's cost.
callboxd_config /tmp/callbox.toml callbox-screen testpattern "" 320 180 10 tone
sed -i 's/^output = "none"$/output = "drm"\nfps = 10/' /tmp/callbox.toml
grep -q '^output = "drm"$' /tmp/callbox.toml || fail "could not set display.output in /tmp/callbox.toml"
start_callboxd /tmp/callbox.toml /tmp/callboxd.log
wait_for 60 grep -q "showing the call" /tmp/callboxd.log ||
	fail "callboxd did not say it shows the call: $(grep -i 'display' /tmp/callboxd.log | tail -n 2 | tr '\n' ' ')"
grep -q 'showing the call.*display=drm' /tmp/callboxd.log ||
	fail "callboxd shows the call elsewhere: $(grep 'showing the call' /tmp/callboxd.log)"

step "the remote participant joins"
wait_for 90 grep -q 'a participant joined.*participant=lab-remote' /tmp/callboxd.log ||
	fail "callboxd did not see lab-remote join (see host.log)"
event remote-joined

wait_host "done" 90 || fail "the host did not see the remote's pattern on the screen (see host.log)"
callboxd_alive /tmp/callboxd.log
# A display that failed and was opened again would still pass the host's
# check; the log says whether it did.
if grep -q 'display drm does not work' /tmp/callboxd.log; then
	fail "the display failed while showing: $(grep 'display drm does not work' /tmp/callboxd.log | head -n 1)"
fi
stop_callboxd
