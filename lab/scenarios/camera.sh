# shellcheck shell=sh
# camera: callboxd captures from vivid at 1280x720, first in YUYV, then in
# NV12 (vivid is single-planar by default, so both come as one buffer), and
# publishes to the LiveKit server on the host, whose viewer decodes vivid's
# colour bars and checks they advance (camera.host.sh, lab-hostview camera).
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
[ -n "$(video_nodes_named vivid-000-vid-cap)" ] || fail "no vivid capture node"

step "asking the host for its call server"
get_call_server

for format in YUYV NV12; do
	identity=callbox-$(echo "$format" | tr '[:upper:]' '[:lower:]')
	step "callboxd sends vivid in $format as $identity"
	callboxd_config /tmp/callbox-$format.toml "$identity" vivid "$format" 1280 720 10 tone
	start_callboxd /tmp/callbox-$format.toml /tmp/callboxd-$format.log
	wait_host "seen $format" 300 || fail "the host viewer did not see vivid's $format pictures (see host.log)"
	callboxd_alive /tmp/callboxd-$format.log
	# The host saw the pictures; this says they were captured as asked.
	grep -q "sending video.*format=\"$format 1280x720@" /tmp/callboxd-$format.log ||
		fail "callboxd did not capture $format 1280x720: $(grep 'sending video' /tmp/callboxd-$format.log)"
	stop_callboxd
done
event camera-done
