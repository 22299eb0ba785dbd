# shellcheck shell=sh
# systemd: the image runs callboxd as a systemd service (buildroot/package/
# callboxd/callboxd.service: Type=notify, WatchdogSec, Restart=always,
# RestartSec); the lab has no systemd, so lab-notifyd (lab/notifyd) plays
# it, following that very unit file, which the host sends. It starts the
# unit's ExecStart (callboxd -data DIR …, settings for the host's server
# written into DIR) and the scenario checks, with the host seeing the box
# back in the call (vivid's pictures) after every start:
#   - READY=1 arrives, WATCHDOG=1 at least every WatchdogSec/2 + 1.5 s;
#   - callboxd hung (SIGSTOP): killed after WatchdogSec, restarted after
#     RestartSec;
#   - a crash (SIGSEGV: Go's crash path) and SIGKILL: restarted;
#   - lab-notifyd stopped (systemctl stop): SIGTERM, STOPPING=1, exit 0.
# WatchdogSec is 4 s here instead of the unit's, to keep the run short.
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

need_binary callboxd
need_binary lab-notifyd
[ -n "$(video_nodes_named vivid-000-vid-cap)" ] || fail "no vivid capture node"

watchdog_s=4
unit=/tmp/callboxd.service
events=/tmp/notifyd.events

step "asking the host for its call server and the unit file"
get_call_server
event want-unit
unit_b64=$(host_says unit 60) || fail "the host side sent no unit file (see host.log)"
echo "$unit_b64" | base64 -d >"$unit" || fail "the host's unit line is not base64"
grep '^\(Type\|WatchdogSec\|Restart\|RestartSec\|RestartPreventExitStatus\|ExecStart\|Environment\)=' "$unit"

# The box as it ships: set up already (settings and an admin password in
# the unit's -data directory). Any password hash ends first-boot setup; no
# one logs in here.
data=$(sed -n 's/^ExecStart=.* -data \([^ ]*\).*/\1/p' "$unit")
[ -n "$data" ] || fail "the unit's ExecStart has no -data DIR"
mkdir -p "$data" && chmod 700 "$data"
callboxd_config "$data/callbox.toml" callbox vivid YUYV 1280 720 10 tone
printf '{"password_hash":"lab: no login"}' >"$data/admin.json"
chmod 600 "$data/callbox.toml" "$data/admin.json"

step "lab-notifyd starts the unit (WatchdogSec=${watchdog_s}s for the lab)"
: >/tmp/notifyd.log # there before tail opens it: busybox's tail -f does not wait for it
lab-notifyd -unit "$unit" -watchdog-sec "${watchdog_s}s" -margin 1500ms -bin-dir /usr/local/bin \
	-events "$events" >/tmp/notifyd.log 2>&1 &
notifyd_pid=$!
tail -f /tmp/notifyd.log &
tail_pid=$!

has() { grep -q "$1" "$events" 2>/dev/null; }
pid_of_run() { sed -n "s/^start $1 pid=//p" "$events"; }
line_of() { grep "$1" "$events" | head -n 1; }

# ready_or_dead N: run N said READY=1, or lab-notifyd gave up.
ready_or_dead() { has "^ready $1 " || has "^no-restart "; }

# run_in_call N NAME SECONDS: run N of callboxd gets ready, and the host
# sees its pictures.
run_in_call() {
	wait_for "$3" ready_or_dead "$1" || fail "callboxd's run $1 ($2) sent no READY=1 in $3 s: $(tail -n 3 "$events" | tr '\n' ' ')"
	has "^no-restart " && fail "callboxd was not restarted ($2): $(line_of '^exit ') / $(line_of '^no-restart ')"
	step "run $1 ($2) is ready: $(line_of "^ready $1 ")"
	event "running-$2"
	wait_host "seen-$2" 240 || fail "the host did not see callboxd's pictures after run $1 ($2) started (see host.log)"
}

# fed N COUNT: WATCHDOG=1 has come COUNT times in run N.
fed() { wait_for 30 has "^watchdog $1 count=$2 " || fail "run $1 fed the watchdog fewer than $2 times in 30 s"; }

run_in_call 1 first 90
fed 1 3

step "callboxd hangs (SIGSTOP): the watchdog must kill it and the unit restart it"
kill -STOP "$(pid_of_run 1)" || fail "cannot stop callboxd"
wait_for $((watchdog_s + 10)) has "^watchdog-timeout 1 " || fail "no watchdog timeout ${watchdog_s}+10 s after callboxd hung"
step "$(line_of '^watchdog-timeout 1 ')"
run_in_call 2 after-watchdog 90
fed 2 2

step "callboxd crashes (SIGSEGV)"
kill -SEGV "$(pid_of_run 2)" || fail "cannot signal callboxd"
run_in_call 3 after-segv 90
fed 3 2

step "callboxd is killed (SIGKILL)"
kill -KILL "$(pid_of_run 3)" || fail "cannot signal callboxd"
run_in_call 4 after-kill 90
fed 4 2

step "stopping the service (SIGTERM, as systemctl stop)"
kill -TERM "$notifyd_pid"
wait_for 30 sh -c "! kill -0 $notifyd_pid 2>/dev/null" || fail "lab-notifyd did not stop within 30 s"
status=0
wait "$notifyd_pid" || status=$?
kill "$tail_pid" 2>/dev/null || true
has "^stopping 4$" || fail "callboxd sent no STOPPING=1 on SIGTERM"
has "^exit 4 code=0 " || fail "callboxd did not exit 0 on SIGTERM: $(line_of '^exit 4 ')"
[ "$status" -eq 0 ] || fail "lab-notifyd exited $status after the stop"

step "the watchdog was fed on time in every run"
if has "^watchdog-late "; then
	fail "WATCHDOG=1 came late: $(grep '^watchdog-late ' "$events" | tr '\n' ' ')"
fi
grep '^\(exit\|restart\|watchdog-timeout\|stopped\) ' "$events"
event systemd-done
