# shellcheck shell=sh
# faults: callboxd streams vivid to the host; the camera is unplugged while
# streaming (vivid unbound through sysfs) and plugged back in (bound), and
# the host stops and restarts its LiveKit server. callboxd must come back
# from both by itself, without a restart: the host viewer sees vivid's
# pictures again each time (faults.host.sh, lab-hostview faults).
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
driver=/sys/bus/platform/drivers/vivid
[ -e "$driver/vivid.0" ] || fail "no vivid.0 bound to $driver"

step "asking the host for its call server"
get_call_server

step "callboxd sends vivid"
callboxd_config /tmp/callbox.toml callbox vivid YUYV 1280 720 10 tone
start_callboxd /tmp/callbox.toml /tmp/callboxd.log
wait_host unplug 300 || fail "the host viewer did not see vivid's pictures (see host.log)"

step "unplugging the camera: vivid.0 unbound"
echo vivid.0 >"$driver/unbind" || fail "cannot unbind vivid.0"
[ -z "$(video_nodes_named vivid-000-vid-cap)" ] || fail "vivid's capture node is still there after the unbind"
wait_for 30 grep -q "camera vivid does not work" /tmp/callboxd.log ||
	fail "callboxd did not notice the camera going away in 30s"
callboxd_alive /tmp/callboxd.log
event camera-gone

wait_host replug 60 || fail "the host side did not say replug"
step "plugging the camera back in: vivid.0 bound"
echo vivid.0 >"$driver/bind" || fail "cannot bind vivid.0 again"
[ -n "$(video_nodes_named vivid-000-vid-cap)" ] || fail "no vivid capture node after binding vivid.0 again"
event camera-back

step "the host stops and restarts its LiveKit server"
wait_host "done" 600 || fail "the host viewer did not see callboxd recover (see host.log)"
callboxd_alive /tmp/callboxd.log
stop_callboxd
