#!/bin/bash
# build-initramfs.sh packs the lab VM's root filesystem as a gzip'd cpio:
# Debian's busybox-static, lab/init as /init, lab/guest.sh and the guest-side
# scenarios (lab/scenarios/*.sh, not *.host.sh) under /lab, and any extra
# binaries into /usr/local/bin. A dynamically linked binary brings along the
# shared libraries and the loader it needs. With ARCH=arm64 the busybox is
# Debian's busybox-static:arm64 (unpacked, not installed), the binaries
# must be arm64 ones, and their libraries come from the arm64 multiarch
# tree (/usr/lib/aarch64-linux-gnu) that the cross build links against.
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

arch=$(lab_arch)
lab_need_packages busybox-static cpio binutils
# The applet list comes from the host's busybox-static, which runs here;
# an arm64 one of the same version has the same applets.
host_busybox=/bin/busybox
file "$host_busybox" 2>/dev/null | grep -q 'statically linked' ||
	[ "$(dpkg-query -S "$host_busybox" 2>/dev/null | cut -d: -f1)" = busybox-static ] ||
	lab_die "$host_busybox is not busybox-static's"
case $arch in
x86_64)
	busybox=$host_busybox elf_machine=X86-64 multiarch=x86_64-linux-gnu strip=strip
	;;
arm64)
	version=$(dpkg-query -W -f='${Version}' busybox-static)
	unpacked=$lab_cache/busybox-static-arm64-$version
	if [ ! -x "$unpacked/bin/busybox" ]; then
		lab_unpack_deb busybox-static arm64 "$unpacked.tmp"
		rm -rf "$unpacked"
		mv "$unpacked.tmp" "$unpacked"
	fi
	busybox=$unpacked/bin/busybox elf_machine=AArch64 multiarch=aarch64-linux-gnu strip=aarch64-linux-gnu-strip
	lab_need_packages binutils-aarch64-linux-gnu
	;;
esac
for bin in "${binaries[@]}"; do
	machine=$(readelf -h "$bin" 2>/dev/null | sed -n 's/^ *Machine: *//p')
	case $machine in
	*"$elf_machine"*) ;;
	*) lab_die "$bin is built for ${machine:-no known machine}, the lab runs $arch (ARCH=$arch): build it for $arch" ;;
	esac
done

# multiarch_path FILE prints where FILE, a library or the loader named by
# its path in the guest, is on this machine: at that path, or under its
# name in the multiarch tree (the arm64 loader is in /usr/aarch64-linux-gnu
# when libc6:arm64 is not installed).
multiarch_path() {
	local dir
	for dir in "$(dirname "$1")" "/lib/$multiarch" "/usr/lib/$multiarch" "/usr/$multiarch/lib"; do
		[ -e "$dir/$(basename "$1")" ] && { echo "$dir/$(basename "$1")"; return 0; }
	done
	lab_die "$(basename "$1") is not in the $multiarch tree (install its $arch package)"
}

# shared_libraries BINARY prints where in the guest the loader and the
# shared libraries BINARY needs go (the loader where PT_INTERP names it,
# the libraries in /lib/MULTIARCH, where the loader looks). They are found
# through the ELF headers (DT_NEEDED, one level after another), so this
# works for a binary of another architecture too, which ldd cannot run.
shared_libraries() {
	local interp
	interp=$(readelf -l "$1" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	[ -n "$interp" ] || return 0 # static
	echo "$interp"
	local seen=" " queue=("$1") file lib
	while [ ${#queue[@]} -gt 0 ]; do
		file=${queue[0]}
		queue=("${queue[@]:1}")
		for lib in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case $seen in *" $lib "*) continue ;; esac
			seen="$seen$lib "
			echo "/lib/$multiarch/$lib"
			queue+=("$(multiarch_path "/lib/$multiarch/$lib")")
		done
	done
}

# The key covers every input's name and content.
inputs_key() {
	{
		sha256sum "$lab_dir/build-initramfs.sh" "$lab_dir/init" "$lab_dir/guest.sh" "$busybox"
		echo "$arch"
		find "$lab_dir/scenarios" -maxdepth 1 -name '*.sh' ! -name '*.host.sh' -print0 | sort -z | xargs -0 -r sha256sum
		[ ${#binaries[@]} -eq 0 ] || sha256sum "${binaries[@]}"
		for dir in "${overlays[@]}"; do
			(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
		done
	} | sha256sum | cut -c1-16
}

if [ -z "$output" ]; then
	mkdir -p "$lab_cache"
	output=$lab_cache/initramfs-$arch-$(inputs_key).cpio.gz
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
"$host_busybox" --list-full | while IFS= read -r applet; do
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
	install -s --strip-program="$strip" -m 0755 "$bin" "$root/usr/local/bin/$(basename "$bin")"
	shared_libraries "$bin" | while IFS= read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$(multiarch_path "$lib")" "$root$lib"
	done
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
