#!/bin/bash
# build-debian.sh makes the Debian 12 arm64 system that `make arm64-test`
# boots under qemu-system-aarch64 (lab/run.sh, scenarios marked
# "# lab-boot: debian"): mmdebstrap's minbase with systemd, udev and
# Debian's linux-image-arm64, made under qemu-user (binfmt_misc), plus the
# dependencies of the given .deb files, so that `apt install ./callbox.deb`
# in the VM, which has no way out to an archive, finds them installed as a
# Pi's apt would have fetched them. They come from the packages' own
# Pre-Depends and Depends (apt-get satisfy), never from a list here.
#
# The result is cached as <cache>/debian-<key>/ holding vmlinuz, initrd.img
# and root.img (ext4, made with mke2fs -d; a run boots a qcow2 overlay on
# it, so no test writes into the cache). The key hashes this script (the
# package list and the system's settings are in it) and the dependencies
# asked for. Progress goes to stderr, the directory to stdout.
#
# What the image has for the lab, besides Debian: an fstab line that
# mounts a disk labelled callbox-lab (the test disk run.sh makes) on /lab,
# and callbox-lab.service, which runs /lab/debian-init from it; networking
# by systemd-networkd from the kernel's ip= argument; eth0 named as such;
# and masked: login prompts (getty.target), which cost half a minute of
# boot under TCG and write over the console log; apt's daily timers, which
# would take apt's lock from the test; e2scrub_reap (no LVM here).
#
# Usage: lab/build-debian.sh [DEB]...
# Env:   CALLBOX_ARM64_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/callbox/arm64)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

arch=arm64
suite=bookworm
cache=${CALLBOX_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/callbox/arm64}
# What a Pi's Debian has that the test needs: systemd to run the package's
# unit, udev for the device nodes and their groups, kmod to load vivid and
# snd-aloop, iproute2 for the console log's view of the network.
packages=(systemd systemd-sysv udev kmod iproute2 "linux-image-$arch")
# The root file system's size; mke2fs -d fills a sparse file.
image_size=3G

depends=()
for deb in "$@"; do
	[ -f "$deb" ] || lab_die "$deb: no such package file"
	for field in Pre-Depends Depends; do
		value=$(dpkg-deb -f "$deb" "$field") || lab_die "$deb: not a Debian package"
		[ -z "$value" ] || depends+=("$value")
	done
done

key=$({ cat "$0"; printf '%s\n' "${depends[@]}"; } | sha256sum | cut -c1-16)
dir=$cache/debian-$key
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

lab_need_packages mmdebstrap qemu-user-static binfmt-support e2fsprogs qemu-utils
# Packages of another architecture run under qemu-user: this kernel has
# binfmt_misc built in but not mounted.
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
	mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
		lab_die "cannot mount binfmt_misc (needs root); arm64 programs cannot run here without it"
fi
update-binfmts --enable qemu-aarch64 >&2 || true
[ "$(head -n 1 /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null)" = enabled ] ||
	lab_die "qemu-aarch64 is not registered with binfmt_misc (update-binfmts --enable qemu-aarch64)"

mkdir -p "$cache"
exec 9>"$cache/debian.lock"
flock 9
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

started=$SECONDS
rm -rf "$dir"
mkdir -p "$dir"
root=$dir/root
log=$dir/mmdebstrap.log
lab_log "making Debian $suite $arch with ${packages[*]}${depends[*]:+ and what the packages depend on} (about 10 min on 2 cores; log: $log)"

# The hooks run in mmdebstrap's shell with the chroot as $1; what they
# need from here comes through the environment.
export CALLBOX_DEPENDS
CALLBOX_DEPENDS=$(IFS=,; echo "${depends[*]}")
set +e
# shellcheck disable=SC2016 # $1 and $CALLBOX_DEPENDS are the hooks' to expand
nice -n 10 mmdebstrap --arch="$arch" --variant=minbase \
	--include="$(IFS=,; echo "${packages[*]}")" \
	--essential-hook='mkdir -p "$1/usr/share/initramfs-tools/modules.d" "$1/etc/initramfs-tools/conf.d"' \
	--essential-hook='printf "%s\n" virtio_pci virtio_blk ext4 crc32c_generic >"$1/usr/share/initramfs-tools/modules.d/callbox-lab"' \
	--essential-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/callbox-lab"' \
	--customize-hook='[ -z "$CALLBOX_DEPENDS" ] || chroot "$1" apt-get satisfy -y -q --no-install-recommends "$CALLBOX_DEPENDS"' \
	--customize-hook='echo callbox >"$1/etc/hostname"' \
	--customize-hook='printf "%s\n" "LABEL=callbox-root / ext4 defaults 0 0" "LABEL=callbox-lab /lab ext4 ro,nofail,x-systemd.device-timeout=10min 0 0" >"$1/etc/fstab"' \
	--customize-hook='mkdir -p "$1/lab"' \
	--customize-hook='cat >"$1/etc/systemd/system/callbox-lab.service" <<UNIT
[Unit]
Description=Callbox lab: the scenario on the test disk (/lab/debian-init)
ConditionPathExists=/lab/debian-init
RequiresMountsFor=/lab
After=systemd-networkd.service

[Service]
Type=simple
ExecStart=/bin/bash /lab/debian-init
StandardInput=null
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console

[Install]
WantedBy=multi-user.target
UNIT' \
	--customize-hook='chroot "$1" systemctl enable callbox-lab.service systemd-networkd.service systemd-network-generator.service' \
	--customize-hook='chroot "$1" systemctl mask getty.target apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service' \
	--customize-hook='cp "$1"/boot/vmlinuz-* "$1/../vmlinuz" && cp "$1"/boot/initrd.img-* "$1/../initrd.img"' \
	"$suite" "$root" \
	"deb http://deb.debian.org/debian $suite main" \
	"deb http://deb.debian.org/debian $suite-updates main" \
	"deb http://deb.debian.org/debian-security $suite-security main" \
	>"$log" 2>&1
status=$?
set -e
if [ "$status" -ne 0 ]; then
	tail -n 30 "$log" >&2
	lab_die "mmdebstrap failed (exit $status); full log: $log"
fi
lab_log "system made in $((SECONDS - started))s; packing root.img"

# A sparse file first: mke2fs says "Creating regular file" even with -q.
truncate -s "$image_size" "$dir/root.img.tmp"
mke2fs -q -t ext4 -L callbox-root -d "$root" "$dir/root.img.tmp" >&2 ||
	lab_die "mke2fs -d $root failed"
mv "$dir/root.img.tmp" "$dir/root.img"
rm -rf "$root"
touch "$dir/.done"
# Systems of other keys are not used again.
find "$cache" -maxdepth 1 -name 'debian-*' ! -name "debian-$key" -exec rm -rf {} +
lab_log "built $dir in $((SECONDS - started))s"
echo "$dir"
