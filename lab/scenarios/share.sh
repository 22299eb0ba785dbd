# shellcheck shell=sh
# share: callboxd shares vivid's HDMI input (video.content_camera; its
# camera is the test pattern, as vivid's one capture node is the content
# input) into the call; the host decodes it as the box's content at the
# input's 1280x720, then the guest plays the laptop: a 1920x1080p60 timing
# selected (the host sees 1080p content in the same call), and the cable
# pulled (callboxd says "no signal, share stopped", the host sees no more
# content). Run with callboxd and device/camera/v4l2's test binary (its
# TestLabHDMISignal sets vivid's signal while callboxd streams it):
#   lab/run.sh -b bin/callboxd -b bin/v4l2.test share
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
need_binary v4l2.test
node=$(video_nodes_named vivid-000-vid-cap | head -n 1)
[ -n "$node" ] || fail "no vivid capture node"

# hdmi_signal SIGNAL sets vivid's HDMI signal: none, or a DV timing.
hdmi_signal() {
	LAB_HDMI_SIGNAL=$1 v4l2.test -test.v -test.run '^TestLabHDMISignal$' >/tmp/hdmi-signal.log 2>&1 ||
		fail "setting vivid's HDMI signal to $1: $(tr -s ' \n' ' ' </tmp/hdmi-signal.log)"
}

step "asking the host for its call server"
get_call_server

step "callboxd shares vivid's HDMI input ($node)"
config=/tmp/callbox-share.toml
log=/tmp/callboxd-share.log
callboxd_config "$config" callbox-share testpattern "" 160 90 5 tone
# The content input goes in callboxd_config's [video] table, after its fps.
sed -i "/^fps = /a content_fps = 2" "$config"
sed -i "/^fps = /a content_camera = \"$node\"" "$config"
start_callboxd "$config" "$log"
wait_host "seen content 720p" 300 || fail "the host did not see vivid's HDMI input shared at 720p (see host.log)"
callboxd_alive "$log"

step "a laptop changes its resolution: 1920x1080p60"
hdmi_signal 1920x1080p60
wait_host "seen content 1080p" 300 || fail "the host did not see the 1080p content (see host.log)"
grep -q "content input's timings changed" "$log" ||
	fail "callboxd did not follow the new timing in the same share: $(grep -i content "$log" | tail -n 5 | tr -s ' \n' ' ')"

step "the cable pulled"
hdmi_signal none
wait_for 30 grep -q "content input: no signal, share stopped" "$log" ||
	fail "callboxd did not say the share stopped: $(grep -i content "$log" | tail -n 5 | tr -s ' \n' ' ')"
event hdmi-unplugged
wait_host "content gone" 60 || fail "the host still saw content after the cable was pulled (see host.log)"
callboxd_alive "$log"
stop_callboxd
event share-done
