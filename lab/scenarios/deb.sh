# shellcheck shell=bash
# lab-boot: debian
# deb: the Debian package on a Debian 12 arm64 system, as on a Raspberry Pi
# (`make arm64-test`). The system is build-debian.sh's (systemd, udev,
# Debian's kernel and the package's dependencies, nothing of Callbox);
# /lab/debs holds two builds of the package, the older installed first and
# the newer as its upgrade. Here, as a person at the box's console would:
#   - load vivid (camera) and snd-aloop (a sound card, the box's speaker),
#     drivers a Pi would load for its camera and sound;
#   - apt install the older package (offline: the VM reaches no archive)
#     and see its service start; its log goes to the console, where the
#     host reads the setup code, as a person reads it on a Pi's screen;
# and the host (deb.host.sh, lab-hostview deb) sets the box up through its
# HTTPS API, end-to-end encrypted as the page offers it; here callboxctl
# invite makes the host's viewer a member's link, and the host sees and
# hears the box in the call (its microphone is the test tone: a steady tone
# through a real microphone is what the box's noise suppression removes,
# and the lab's audio scenario captures snd-aloop), with systemd's watchdog
# on as the unit sets it and no restart. Then, each when the host asks:
#   - upgrade: apt install the newer package; the service restarts with
#     the new version and the host sees the box back in the call with its
#     settings (no setup again);
#   - remove: apt remove stops the service and keeps /var/lib/callbox;
#   - purge: apt purge removes /var/lib/callbox.
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

data=/var/lib/callbox

# The two packages, older first.
mapfile -t debs < <(ls "$LAB_DEBS"/*.deb 2>/dev/null)
[ ${#debs[@]} -eq 2 ] || fail "want two packages in $LAB_DEBS (one and its upgrade), found ${#debs[@]}: ${debs[*]}"
first=${debs[0]} second=${debs[1]}
first_version=$(dpkg-deb -f "$first" Version) second_version=$(dpkg-deb -f "$second" Version)
if dpkg --compare-versions "$first_version" gt "$second_version"; then
	first=${debs[1]} second=${debs[0]}
	first_version=$(dpkg-deb -f "$first" Version) second_version=$(dpkg-deb -f "$second" Version)
fi
dpkg --compare-versions "$second_version" gt "$first_version" ||
	fail "the two packages have the same version $first_version: one must be an upgrade"
package=$(dpkg-deb -f "$first" Package)

# apt_get ARGS... runs apt-get without questions, its output on the console,
# and fails the scenario naming what apt said last.
apt_get() {
	local log=/tmp/apt.log status=0
	DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=120 \
		--no-install-recommends "$@" >"$log" 2>&1 || status=$?
	cat "$log"
	[ "$status" -eq 0 ] || fail "apt-get $* failed (exit $status): $(grep -E '^(E|W):' "$log" | tail -n 3 | tr '\n' ' ')"
}

# main_pid prints the service's main process, 0 when it has none.
main_pid() {
	systemctl show -p MainPID --value "$unit"
}
service_running() {
	[ "$(systemctl is-active "$unit")" = active ] && [ "$(main_pid)" -ne 0 ]
}

step "camera and sound card: vivid and snd-aloop"
modprobe vivid n_devs=1 node_types=0x1 || fail "modprobe vivid failed"
modprobe snd-aloop || fail "modprobe snd-aloop failed"
wait_for 20 test -n "$(video_nodes_named vivid-000-vid-cap)" || fail "vivid made no capture node"
wait_for 20 grep -q Loopback /proc/asound/cards || fail "no Loopback card in /proc/asound/cards"

step "apt install $first ($package $first_version)"
apt_get install "$first"
unit=$(dpkg -L "$package" | sed -n 's|^/.*/systemd/system/\([^/]*\.service\)$|\1|p' | head -n 1)
[ -n "$unit" ] || fail "$package installs no systemd service"
# The box's log on the console, as journalctl shows it on a Pi's.
journalctl -b -f -n all -o cat -u "$unit" &
wait_for 60 service_running || fail "$unit is not running after the install: $(systemctl status "$unit" 2>&1 | tail -n 5 | tr '\n' ' ')"
event installed

step "the host sets the box up"
wait_host invite 900 || fail "the host did not set the box up (see host.log)"
step "callboxctl invite: a member's link for the host's viewer"
# The box's calls are end-to-end encrypted: the host's viewer joins with an
# invite, as a guest would. Just after setup the box may not have its call
# yet ("no call is set up"). The link holds the invite's secret: it goes to
# the host on the control channel, never to the console.
invite_err=/tmp/callboxctl-invite.err
wait_for 60 sh -c "callboxctl invite -socket $data/control.sock -name 'Lab viewer' >/tmp/invite.txt 2>$invite_err" ||
	fail "callboxctl invite failed: $(tail -n 2 "$invite_err" | tr '\n' ' ')"
tell_host "invite-link $(head -n 1 /tmp/invite.txt)"
rm -f /tmp/invite.txt

step "the host sees the box in the call"
wait_host upgrade 900 || fail "the host did not see the box in the call (see host.log)"
# restarts_none fails unless systemd left callboxd's first process running
# all along: no crash, and no watchdog restart (WatchdogSec in the unit;
# the call's loops feed it) under TCG.
restarts_none() {
	local n
	n=$(systemctl show -p NRestarts --value "$unit")
	[ "$n" = 0 ] || fail "systemd restarted $unit $n time(s) $1: $(journalctl -b -u "$unit" -o cat | grep -m 3 -iE 'watchdog|panic|signal' | tr '\n' ' ')"
}
restarts_none "while it was in the call"

step "apt install $second (upgrade to $second_version)"
before=$(main_pid)
apt_get install "$second"
[ "$(dpkg-query -W -f='${Version}' "$package")" = "$second_version" ] ||
	fail "after the upgrade $package is $(dpkg-query -W -f='${Version}' "$package"), want $second_version"
wait_for 60 service_running || fail "$unit is not running after the upgrade"
[ "$(main_pid)" != "$before" ] || fail "the upgrade did not restart $unit (main process $before before and after)"
[ -s "$data/callbox.toml" ] || fail "the upgrade lost $data/callbox.toml"
event upgraded

wait_host remove 600 || fail "the host did not see the box back in the call after the upgrade (see host.log)"
restarts_none "after the upgrade"
step "apt remove $package"
apt_get remove "$package"
wait_for 30 sh -c "! systemctl is-active --quiet $unit" || fail "$unit still runs after apt remove"
for kept in callbox.toml admin.json e2ee-identity.json invites.json; do
	[ -s "$data/$kept" ] || fail "apt remove did not keep $data/$kept: $data holds $(find "$data" -mindepth 1 -printf '%f ' 2>&1)"
done
event removed

wait_host purge 120 || fail "the host still saw the box in the call after apt remove (see host.log)"
step "apt purge $package"
apt_get purge "$package"
[ ! -e "$data" ] || fail "apt purge left $data, holding $(find "$data" -mindepth 1 -printf '%f ' 2>&1)"
event purged
