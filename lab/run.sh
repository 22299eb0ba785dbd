#!/bin/bash
# run.sh boots the lab VM once for one scenario and reports its result.
#
# It builds (or takes from the cache) the kernel and the initramfs, makes a
# private network namespace holding a tap device with the host's address
# 10.99.1.1/24, and runs qemu (TCG, no display window) inside it; the guest
# is 10.99.1.2, and nothing outside that namespace is reachable. The serial
# console goes to OUT/console.log, the QMP monitor listens on OUT/qmp.sock,
# and OUT/ctl.sock is a line channel from the host to the scenario (the
# guest's ttyS1, or hvc0 on arm64). If lab/scenarios/NAME.host.sh exists it
# runs next to the VM inside the namespace (see lib.sh's lab_wait_event,
# lab_qmp).
#
# ARCH=x86_64 (the default) runs qemu-system-x86_64 -machine pc; ARCH=arm64
# runs qemu-system-aarch64 -machine virt -cpu cortex-a72 with the same
# kernel fragment and initramfs built for arm64, and arm64 binaries.
#
# A scenario with the line "# lab-boot: debian" boots instead the Debian 12
# arm64 system of build-debian.sh (ARCH=arm64 only): Debian's kernel and
# initramfs, its root file system through a qcow2 overlay (nothing a run
# writes reaches the cache), and a second disk, made for the run, mounted
# on /lab: debian-init (which runs the scenario, as init does in the
# initramfs), guest.sh, the scenarios, the -b binaries (copied to
# /usr/local/bin), the --overlay trees (copied onto /) and the --deb
# packages (in /lab/debs, for the scenario to install with apt).
#
# Usage: lab/run.sh [-t SECONDS] [-o OUT] [-b BINARY]... [--overlay DIR]... [--deb FILE]... NAME
#   -t SECONDS     give up after this long (default 180)
#   -o OUT         directory for console.log and the rest (default
#                  ${TMPDIR:-/tmp}/callbox-lab/NAME, emptied first)
#   -b BINARY      put BINARY into the guest's /usr/local/bin (repeatable)
#   --overlay DIR  copy DIR onto the guest's root (repeatable)
#   --deb FILE     a package for a Debian scenario (repeatable); the image
#                  has what it depends on
# A scenario file may ask for kernel arguments with a line
#   # lab-append: vivid.n_devs=2
# Prints "PASS NAME" or "FAIL NAME <reason>"; exits 0 only on PASS.
# Needs root (ip netns, tap devices).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

timeout_s=180
out=
binaries=()
overlays=()
debs=()
while [ $# -gt 0 ]; do
	case $1 in
	-t) timeout_s=${2:?-t needs seconds}; shift 2 ;;
	-o) out=${2:?-o needs a directory}; shift 2 ;;
	-b) binaries+=("${2:?-b needs a binary}"); shift 2 ;;
	--overlay) overlays+=("${2:?--overlay needs a directory}"); shift 2 ;;
	--deb) debs+=("${2:?--deb needs a package file}"); shift 2 ;;
	-h | --help) lab_usage; exit 0 ;;
	-*) lab_die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || lab_die "usage: $0 [-t SECONDS] [-o OUT] [-b BINARY]... [--overlay DIR]... [--deb FILE]... SCENARIO"
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

arch=$(lab_arch)
boot=$(sed -n 's/^# lab-boot: *//p' "$scenario" | head -n 1)
case $boot in
'') boot=initramfs ;;
debian) [ "$arch" = arm64 ] || lab_die "scenario $name boots the Debian arm64 system: run it with ARCH=arm64" ;;
*) lab_die "scenario $name: lab-boot: $boot is not one the lab knows (debian)" ;;
esac
[ ${#debs[@]} -eq 0 ] || [ "$boot" = debian ] || lab_die "--deb is for scenarios that boot Debian (# lab-boot: debian)"

host_ip=10.99.1.1
guest_ip=10.99.1.2
prefix=24

# The machine: console and control channel, per architecture.
case $arch in
x86_64)
	lab_need_packages qemu-system-x86 iproute2 socat
	machine=(qemu-system-x86_64 -machine pc -accel tcg)
	console_tty=ttyS0 ctl_tty=ttyS1
	ctl_device=(-serial chardev:ctl)
	;;
arm64)
	lab_need_packages qemu-system-arm iproute2 socat
	machine=(qemu-system-aarch64 -machine virt -cpu cortex-a72 -accel tcg)
	console_tty=ttyAMA0 ctl_tty=hvc0
	# shellcheck disable=SC2054 # commas within qemu's arguments
	ctl_device=(-device virtio-serial-pci -device virtconsole,chardev=ctl)
	;;
esac

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
	rm -f "$out/root.qcow2" "$out/lab.img"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# test_disk IMAGE DIR makes the Debian system's second disk (ext4, label
# callbox-lab, mounted on /lab) from what this run brings, staged in DIR.
test_disk() {
	local image=$1 dir=$2 size_mb
	mkdir -p "$dir/scenarios" "$dir/bin" "$dir/debs" "$dir/root"
	install -m 0755 "$lab_dir/debian-init" "$dir/debian-init"
	install -m 0644 "$lab_dir/guest.sh" "$dir/guest.sh"
	find "$lab_dir/scenarios" -maxdepth 1 -name '*.sh' ! -name '*.host.sh' -exec install -m 0644 -t "$dir/scenarios" {} +
	[ ${#binaries[@]} -eq 0 ] || install -m 0755 -t "$dir/bin" "${binaries[@]}"
	[ ${#debs[@]} -eq 0 ] || install -m 0644 -t "$dir/debs" "${debs[@]}"
	for overlay in "${overlays[@]}"; do
		cp -a "$overlay/." "$dir/root/"
	done
	size_mb=$(($(du -sm "$dir" | cut -f1) * 5 / 4 + 16))
	# mke2fs says "Creating regular file" even with -q unless it exists.
	truncate -s "${size_mb}M" "$image"
	mke2fs -q -t ext4 -L callbox-lab -d "$dir" "$image" || lab_die "mke2fs -d $dir failed"
	rm -rf "$dir"
}

append="console=$console_tty panic=-1 callbox.scenario=$name callbox.ip=$guest_ip/$prefix callbox.host=$host_ip callbox.ctl=$ctl_tty"
case $boot in
initramfs)
	kernel=$(ARCH=$arch "$lab_dir/build-kernel.sh")
	initramfs_args=("${binaries[@]}")
	for overlay in "${overlays[@]}"; do
		initramfs_args+=(--overlay "$overlay")
	done
	initramfs=$(ARCH=$arch "$lab_dir/build-initramfs.sh" "${initramfs_args[@]}")
	boot_args=(-kernel "$kernel" -initrd "$initramfs" -device bochs-display)
	boot_what="kernel $(basename "$kernel"), initramfs $(basename "$initramfs")"
	smp=${LAB_SMP:-1}
	;;
debian)
	system=$("$lab_dir/build-debian.sh" "${debs[@]}")
	lab_need_packages qemu-utils e2fsprogs
	# The run's writes go to an overlay in OUT, removed when it ends.
	qemu-img create -q -f qcow2 -F raw -b "$system/root.img" "$out/root.qcow2"
	test_disk "$out/lab.img" "$out/lab-disk"
	# shellcheck disable=SC2054 # commas within qemu's arguments
	boot_args=(-kernel "$system/vmlinuz" -initrd "$system/initrd.img"
		-drive "if=none,id=root,format=qcow2,file=$out/root.qcow2" -device virtio-blk-pci,drive=root
		-drive "if=none,id=lab,format=raw,readonly=on,file=$out/lab.img" -device virtio-blk-pci,drive=lab)
	# systemd-network-generator makes eth0's settings from ip=. systemd
	# shows only failures: its progress lines would fill the console log.
	append="$append root=LABEL=callbox-root rw net.ifnames=0 ip=$guest_ip::$host_ip:255.255.255.0::eth0:off systemd.show_status=error"
	boot_what="Debian $(basename "$system")"
	smp=${LAB_SMP:-2}
	;;
esac
extra=$(sed -n 's/^# lab-append: *//p' "$scenario" | tr '\n' ' ')
append="$append${extra:+ $extra}"

ip netns add "$netns"
ip -n "$netns" link set lo up
ip -n "$netns" tuntap add dev tap0 mode tap
ip -n "$netns" addr add "$host_ip/$prefix" dev tap0
ip -n "$netns" link set tap0 up

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

lab_log "booting $name on $arch ($boot_what, timeout ${timeout_s}s)"
set +e
timeout --kill-after=5 "$timeout_s" \
	ip netns exec "$netns" "${machine[@]}" \
	-nodefaults -no-user-config -m "${LAB_MEM:-1G}" -smp "$smp" \
	-display none -vga none \
	-serial "file:$console" \
	-chardev "socket,id=ctl,path=$ctl,server=on,wait=off" "${ctl_device[@]}" \
	-qmp "unix:$qmp,server=on,wait=off" \
	-netdev tap,id=net0,ifname=tap0,script=no,downscript=no \
	-device virtio-net-pci,netdev=net0 \
	"${boot_args[@]}" -append "$append" \
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
