# shellcheck shell=sh
# m2m: the hardware codec package (pipeline/v4l2m2m) on the lab's real m2m
# drivers: vicodec (stateful FWHT encoder and decoder), vim2m (scaler) and
# vivid (camera, DMABUF exporter). Zero-copy: device/camera/v4l2 opens vivid with
# ExportDMABUF and the encoder imports its buffers (TestLabDMABUF), or,
# where the layouts differ, copies and logs why. The receive path's decoder
# stage (pipeline.VideoDecoders choosing vicodec's decoder for FWHT video,
# compose.Screen showing it on the bochs screen through DRM) runs here too
# (TestLabReceiveDecodesOnTheScreen). Run with the package's
# test binary:
#   go test -c -tags dynamic -o bin/v4l2m2m.test ./pipeline/v4l2m2m
#   lab/run.sh -b bin/v4l2m2m.test m2m
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

bin=/usr/local/bin/v4l2m2m.test
[ -x "$bin" ] || fail "no $bin: pass the test binary with lab/run.sh -b bin/v4l2m2m.test m2m"

step "m2m devices present"
for role in stateful-encoder stateful-decoder vim2m vivid-000-vid-cap; do
	[ -n "$(video_nodes_named "$role")" ] || fail "no $role node in /sys/class/video4linux"
done

step "v4l2m2m lab tests"
log=/tmp/v4l2m2m-test.log
cd /tmp
status=0
"$bin" -test.v -test.run '^TestLab' -test.timeout 120s >"$log" 2>&1 || status=$?
cat "$log"
if [ "$status" -ne 0 ]; then
	fail "v4l2m2m.test exit $status: $(grep -E -- '^\s*--- FAIL|^panic' "$log" | tr -s ' \n' ' ')"
fi
# In the lab nothing may skip: a skip here means a device went missing.
if grep -q -- '--- SKIP' "$log"; then
	fail "v4l2m2m tests skipped in the lab: $(grep -A1 -- '--- SKIP' "$log" | tr -s ' \n' ' ')"
fi
grep -q -- '--- PASS: TestLabEncodeDecode' "$log" || fail "TestLabEncodeDecode did not run"
grep -q -- '--- PASS: TestLabDMABUF' "$log" || fail "TestLabDMABUF did not run"
grep -q -- '--- PASS: TestLabReceiveDecodesOnTheScreen' "$log" || fail "TestLabReceiveDecodesOnTheScreen did not run"
grep -q 'zero-copy: [1-9][0-9]* frames from vivid imported by vicodec' "$log" ||
	fail "vivid's buffers did not reach vicodec as DMABUF (no zero-copy line)"
