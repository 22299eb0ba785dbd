# shellcheck shell=sh
# audio: lab-tone plays 1 kHz into snd-aloop's playback side
# (hw:Loopback,0,0); callboxd captures it from the paired capture side
# (hw:Loopback,1,0: snd-aloop joins substream N of device 0 to substream N
# of device 1) and sends it; the host viewer finds the tone in what it
# decodes (audio.host.sh, lab-hostview audio).
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
need_binary lab-tone
grep -q Loopback /proc/asound/cards || fail "no Loopback card in /proc/asound/cards"

step "asking the host for its call server"
get_call_server

step "lab-tone plays 1000 Hz into hw:Loopback,0,0"
lab-tone -device hw:Loopback,0,0 -hz 1000 &
tone_pid=$!

step "callboxd sends what it hears on hw:Loopback,1,0"
# A small test pattern, so the CPU goes to the sound.
callboxd_config /tmp/callbox.toml callbox-audio testpattern "" 320 180 5 hw:Loopback,1,0
start_callboxd /tmp/callbox.toml /tmp/callboxd.log
wait_host heard 240 || fail "the host viewer did not hear the 1000 Hz tone (see host.log)"
callboxd_alive /tmp/callboxd.log
kill -0 "$tone_pid" 2>/dev/null || fail "lab-tone stopped playing"
stop_callboxd
kill "$tone_pid"
