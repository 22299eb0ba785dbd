# shellcheck shell=sh
# content: device/camera/v4l2's HDMI input (the content input of
# video.content_camera) on vivid's HDMI input, vivid's fourth by default:
# its DV timings at the start, a picture at their size, the cable pulled
# (vivid's "DV Timings Signal Mode" control: no signal, a source-change
# event, Signal says no signal), and a 1920x1080 signal plugged in (a
# selected timing: an event, the new size, a picture at it). Run with the
# package's test binary:
#   go test -c -tags dynamic -o bin/v4l2.test ./device/camera/v4l2
#   lab/run.sh -b bin/v4l2.test content
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

bin=/usr/local/bin/v4l2.test
[ -x "$bin" ] || fail "no $bin: pass the test binary with lab/run.sh -b bin/v4l2.test content"
[ -n "$(video_nodes_named vivid-000-vid-cap)" ] || fail "no vivid capture node"

step "vivid's HDMI input as the content input"
log=/tmp/v4l2-test.log
cd /tmp
status=0
"$bin" -test.v -test.run '^TestLabHDMI$' -test.timeout 120s >"$log" 2>&1 || status=$?
cat "$log"
if [ "$status" -ne 0 ]; then
	fail "v4l2.test exit $status: $(grep -E -- '^\s*--- FAIL|^panic|hdmi_lab_test' "$log" | tr -s ' \n' ' ')"
fi
grep -q -- '--- PASS: TestLabHDMI' "$log" || fail "TestLabHDMI did not run (skipped: $(grep -A1 -- '--- SKIP' "$log" | tr -s ' \n' ' '))"
