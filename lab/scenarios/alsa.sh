# shellcheck shell=sh
# alsa: device/audio's own loopback tests, run on the real snd-aloop card
# (they skip anywhere else). Needs the test binary:
#   go test -c -tags dynamic -o bin/audio.test ./device/audio
#   lab/run.sh -b bin/audio.test alsa
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary audio.test
step "device/audio's loopback tests on snd-aloop"
status=0
audio.test -test.run Loopback -test.v -test.timeout 120s >/tmp/audio-test.log 2>&1 || status=$?
cat /tmp/audio-test.log
[ "$status" -eq 0 ] || fail "audio.test -test.run Loopback failed: $(grep -- '--- FAIL' /tmp/audio-test.log | tr '\n' ' ')"
grep -q -- '--- PASS' /tmp/audio-test.log || fail "audio.test ran no loopback test"
! grep -q -- '--- SKIP' /tmp/audio-test.log || fail "audio.test skipped: $(grep -A1 -- '--- SKIP' /tmp/audio-test.log | tr '\n' ' ')"
