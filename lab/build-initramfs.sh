#!/bin/bash
# build-initramfs.sh packs the lab VM's root filesystem as a gzip'd cpio:
# Debian's busybox-static, lab/init as /init, lab/guest.sh and the guest-side
# scenarios (lab/scenarios/*.sh, not *.host.sh) under /lab, and any extra
# binaries into /usr/local/bin. A dynamically linked binary brings along the
# shared libraries and the loader that ldd names.
#
# Usage: lab/build-initramfs.sh [-o OUTPUT] [--overlay DIR]... [BINARY]...
#   -o OUTPUT      write here (default: <cache>/initramfs-<key>.cpio.gz, reused
#                  when the inputs are unchanged)
#   --overlay DIR  copy DIR's tree onto the root (configs, test media)
# Prints the image's path on stdout.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

output=
overlays=()
binaries=()
while [ $# -gt 0 ]; do
	case $1 in
	-o) output=${2:?-o needs a path}; shift 2 ;;
	--overlay) overlays+=("${2:?--overlay needs a directory}"); shift 2 ;;
	-h | --help) lab_usage; exit 0 ;;
	-*) lab_die "unknown option $1" ;;
	*) binaries+=("$1"); shift ;;
	esac
done
for bin in "${binaries[@]}"; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		lab_die "$bin: not an executable file"
	fi
done
for dir in "${overlays[@]}"; do
	[ -d "$dir" ] || lab_die "--overlay $dir: not a directory"
done

lab_need_packages busybox-static cpio
busybox=/bin/busybox
file "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	[ "$(dpkg-query -S "$busybox" 2>/dev/null | cut -d: -f1)" = busybox-static ] ||
	lab_die "$busybox is not busybox-static's"

# The key covers every input's name and content.
inputs_key() {
	{
		sha256sum "$lab_dir/build-initramfs.sh" "$lab_dir/init" "$lab_dir/guest.sh" "$busybox"
		find "$lab_dir/scenarios" -maxdepth 1 -name '*.sh' ! -name '*.host.sh' -print0 | sort -z | xargs -0 -r sha256sum
		[ ${#binaries[@]} -eq 0 ] || sha256sum "${binaries[@]}"
		for dir in "${overlays[@]}"; do
			(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
		done
	} | sha256sum | cut -c1-16
}

if [ -z "$output" ]; then
	mkdir -p "$lab_cache"
	output=$lab_cache/initramfs-$(inputs_key).cpio.gz
	if [ -s "$output" ]; then
		echo "$output"
		exit 0
	fi
	# Images of old inputs are cheap to make again.
	find "$lab_cache" -maxdepth 1 -name 'initramfs-*.cpio.gz' -mtime +1 -delete
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/callbox-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,dev,proc,sys,tmp,run,etc,root,lab/scenarios}
cp "$busybox" "$root/bin/busybox"
# One symlink per applet, where busybox itself would install it.
"$busybox" --list-full | while IFS= read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 0755 "$lab_dir/init" "$root/init"
install -m 0644 "$lab_dir/guest.sh" "$root/lab/guest.sh"
find "$lab_dir/scenarios" -maxdepth 1 -name '*.sh' ! -name '*.host.sh' -exec install -m 0644 -t "$root/lab/scenarios" {} +
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
# The kernel opens /dev/console before /init runs; without the node the init
# still finds it on devtmpfs, but the kernel warns.
[ "$(id -u)" -ne 0 ] || mknod -m 600 "$root/dev/console" c 5 1

for bin in "${binaries[@]}"; do
	# Stripped: the whole initramfs is unpacked into the guest's memory, and
	# Go's symbol tables are a third of a binary (stack traces still work).
	install -s -m 0755 "$bin" "$root/usr/local/bin/$(basename "$bin")"
	# ldd prints "name => /path (addr)" per library and "/lib64/ld-... (addr)"
	# for the loader; a static binary has none.
	if ldd "$bin" >/dev/null 2>&1; then
		ldd "$bin" | grep -o '/[^ ]*' | while IFS= read -r lib; do
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	fi
done
for dir in "${overlays[@]}"; do
	cp -a "$dir/." "$root/"
done

mkdir -p "$(dirname "$output")"
(cd "$root" && find . -print0 | sort -z | cpio --null --create --format=newc --owner=0:0 --quiet) |
	gzip -6 >"$output.tmp"
mv "$output.tmp" "$output"
lab_log "packed $output ($(stat -c %s "$output") bytes)"
echo "$output"
