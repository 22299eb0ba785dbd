#!/bin/bash
# run.sh boots the lab VM once for one scenario and reports its result.
#
# It builds (or takes from the cache) the kernel and the initramfs, makes a
# private network namespace holding a tap device with the host's address
# 10.99.1.1/24, and runs qemu-system-x86_64 (TCG, no display window) inside
# it; the guest is 10.99.1.2, and nothing outside that namespace is reachable.
# The serial console (ttyS0) goes to OUT/console.log, the QMP monitor listens
# on OUT/qmp.sock, and OUT/ctl.sock is the guest's ttyS1, a line channel from
# the host to the scenario. If lab/scenarios/NAME.host.sh exists it runs next to the VM
# inside the namespace (see lib.sh's lab_wait_event, lab_qmp).
#
# Usage: lab/run.sh [-t SECONDS] [-o OUT] [-b BINARY]... [--overlay DIR]... NAME
#   -t SECONDS     give up after this long (default 180)
#   -o OUT         directory for console.log and the rest (default
#                  ${TMPDIR:-/tmp}/callbox-lab/NAME, emptied first)
#   -b BINARY      put BINARY into the guest's /usr/local/bin (repeatable)
#   --overlay DIR  copy DIR onto the guest's root (repeatable)
# A scenario file may ask for kernel arguments with a line
#   # lab-append: vivid.n_devs=2
# Prints "PASS NAME" or "FAIL NAME <reason>"; exits 0 only on PASS.
# Needs root (ip netns, tap devices).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

timeout_s=180
out=
initramfs_args=()
while [ $# -gt 0 ]; do
	case $1 in
	-t) timeout_s=${2:?-t needs seconds}; shift 2 ;;
	-o) out=${2:?-o needs a directory}; shift 2 ;;
	-b) initramfs_args+=("${2:?-b needs a binary}"); shift 2 ;;
	--overlay) initramfs_args+=(--overlay "${2:?--overlay needs a directory}"); shift 2 ;;
	-h | --help) lab_usage; exit 0 ;;
	-*) lab_die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || lab_die "usage: $0 [-t SECONDS] [-o OUT] [-b BINARY]... [--overlay DIR]... SCENARIO"
name=$1
case $name in
*/* | *.sh | '') lab_die "scenario $name: give the bare name of a file in $lab_dir/scenarios, e.g. drivers" ;;
esac
scenario=$lab_dir/scenarios/$name.sh
[ -f "$scenario" ] || lab_die "scenario $name: no $scenario"
case $timeout_s in
'' | *[!0-9]*) lab_die "-t $timeout_s: not a number of seconds" ;;
esac
[ "$(id -u)" -eq 0 ] || lab_die "needs root, for ip netns and the tap device"

host_ip=10.99.1.1
guest_ip=10.99.1.2
prefix=24

lab_need_packages qemu-system-x86 iproute2 socat
kernel=$("$lab_dir/build-kernel.sh")
initramfs=$("$lab_dir/build-initramfs.sh" "${initramfs_args[@]}")

out=${out:-${TMPDIR:-/tmp}/callbox-lab/$name}
rm -rf "$out"
mkdir -p "$out"
console=$out/console.log
qmp=$out/qmp.sock
ctl=$out/ctl.sock
netns=callbox-lab-$$
host_pid=
qemu_pid=

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	# Stop what this run started, by pid; the namespace goes when its last
	# process has.
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	[ -z "$host_pid" ] || kill -- -"$host_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$netns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$netns"
ip -n "$netns" link set lo up
ip -n "$netns" tuntap add dev tap0 mode tap
ip -n "$netns" addr add "$host_ip/$prefix" dev tap0
ip -n "$netns" link set tap0 up

append="console=ttyS0 panic=-1 callbox.scenario=$name callbox.ip=$guest_ip/$prefix callbox.host=$host_ip"
extra=$(sed -n 's/^# lab-append: *//p' "$scenario" | tr '\n' ' ')
append="$append${extra:+ $extra}"

host_part=$lab_dir/scenarios/$name.host.sh
started=$(date +%s%N)
if [ -f "$host_part" ]; then
	: >"$console"
	# Its own process group, so cleanup stops whatever it started too.
	LAB_OUT=$out LAB_CONSOLE=$console LAB_QMP=$qmp LAB_CTL=$ctl LAB_NETNS=$netns \
		LAB_HOST_IP=$host_ip LAB_GUEST_IP=$guest_ip LAB_STARTED_NS=$started \
		setsid ip netns exec "$netns" bash "$host_part" >"$out/host.log" 2>&1 &
	host_pid=$!
fi

lab_log "booting $name (kernel $(basename "$kernel"), initramfs $(basename "$initramfs"), timeout ${timeout_s}s)"
set +e
timeout --kill-after=5 "$timeout_s" \
	ip netns exec "$netns" qemu-system-x86_64 \
	-nodefaults -no-user-config -machine pc -accel tcg -m "${LAB_MEM:-1G}" -smp "${LAB_SMP:-1}" \
	-display none -vga none -device bochs-display \
	-serial "file:$console" \
	-chardev "socket,id=ctl,path=$ctl,server=on,wait=off" -serial chardev:ctl \
	-qmp "unix:$qmp,server=on,wait=off" \
	-netdev tap,id=net0,ifname=tap0,script=no,downscript=no \
	-device virtio-net-pci,netdev=net0 \
	-kernel "$kernel" -initrd "$initramfs" -append "$append" \
	-no-reboot >"$out/qemu.log" 2>&1 &
qemu_pid=$!
wait "$qemu_pid"
qemu_status=$?
qemu_pid=
set -e
elapsed=$(awk -v ns=$(($(date +%s%N) - started)) 'BEGIN { printf "%.1f", ns / 1e9 }')

# The host part either finished on its own (its status counts) or is
# stopped now that the guest is done.
host_status=0
if [ -n "$host_pid" ]; then
	if kill -0 "$host_pid" 2>/dev/null; then
		kill -- -"$host_pid" 2>/dev/null || true
		wait "$host_pid" 2>/dev/null || true
	else
		wait "$host_pid" || host_status=$?
	fi
	host_pid=
fi

verdict=$(grep -a -m1 '^LAB-RESULT: ' "$console" 2>/dev/null | tr -d '\r' | cut -d' ' -f3- || true)
if [ -n "$verdict" ]; then
	result=$verdict
elif [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
	result="FAIL timed out after ${timeout_s}s"
else
	result="FAIL no LAB-RESULT line (qemu exit $qemu_status: $(tail -n 1 "$out/qemu.log" 2>/dev/null))"
fi
# The host side's own reason is nearer the cause than what the guest saw.
if [ -s "$out/host-fail-reason" ]; then
	result="FAIL host: $(head -n 1 "$out/host-fail-reason")"
elif [ "$result" = PASS ] && [ "$host_status" -ne 0 ]; then
	result="FAIL host: $(basename "$host_part") exit $host_status"
fi

lab_log "$name done in ${elapsed}s; console log: $console"
if [ "$result" = PASS ]; then
	echo "PASS $name"
	exit 0
fi
echo "FAIL $name ${result#FAIL }"
exit 1
