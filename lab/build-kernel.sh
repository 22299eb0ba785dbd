#!/bin/bash
# build-kernel.sh builds the lab VM's kernel from Debian's linux-source-6.1:
# `make tinyconfig`, merge lab/kernel.config and the machine's part
# (lab/kernel-ARCH.config), `make olddefconfig`, check that every option of
# the fragments survived, `make bzImage` (x86_64) or `make Image` (arm64,
# cross-built with Debian's gcc-aarch64-linux-gnu).
#
# The image is cached as <cache>/bzImage-<key> (arm64: Image-arm64-<key>),
# where the key hashes the fragments, this script, the architecture and the
# source package's version; a run with a known key returns at once. Progress
# goes to stderr; the image's path to stdout.
#
# Usage: lab/build-kernel.sh
# Env:   ARCH (x86_64, the default, or arm64)
#        CALLBOX_LAB_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/callbox/lab)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

arch=$(lab_arch)
fragments=("$lab_dir/kernel.config" "$lab_dir/kernel-$arch.config")
source_pkg=linux-source-6.1
# What differs between the architectures: the image's name in the cache
# and in the build tree, the build tree, and the compiler.
case $arch in
x86_64)
	cached_name=bzImage config_name=config build_dir=build target=bzImage cross=
	tools=(build-essential)
	;;
arm64)
	cached_name=Image-arm64 config_name=config-arm64 build_dir=build-arm64 target=Image cross=aarch64-linux-gnu-
	tools=(build-essential gcc-aarch64-linux-gnu)
	;;
esac

# Fast path, without installing anything: the image for this key exists. The
# version is the installed one, or the one apt would install, so a CI run that
# restored only the bzImage need not download the source.
source_version=$(dpkg-query -W -f='${Version}' "$source_pkg" 2>/dev/null || true)
[ -n "$source_version" ] ||
	source_version=$(apt-cache show --no-all-versions "$source_pkg" 2>/dev/null | sed -n 's/^Version: //p' || true)
kernel_key() {
	{ cat "${fragments[@]}" "$lab_dir/build-kernel.sh"; echo "$arch $source_pkg $source_version"; } |
		sha256sum | cut -c1-16
}
image=$lab_cache/$cached_name-$(kernel_key)
if [ -n "$source_version" ] && [ -s "$image" ]; then
	echo "$image"
	exit 0
fi

lab_need_packages "$source_pkg" "${tools[@]}" bc bison flex libelf-dev libssl-dev xz-utils
source_version=$(dpkg-query -W -f='${Version}' "$source_pkg")
key=$(kernel_key)
image=$lab_cache/$cached_name-$key

mkdir -p "$lab_cache"
# One build at a time per cache: a second caller waits, then finds the image.
exec 9>"$lab_cache/kernel.lock"
flock 9
if [ -s "$image" ]; then
	echo "$image"
	exit 0
fi

started=$SECONDS
src=$lab_cache/src/$source_pkg-$source_version
if [ ! -e "$src/.unpacked" ]; then
	lab_log "unpacking /usr/src/$source_pkg.tar.xz into $src"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf "/usr/src/$source_pkg.tar.xz" -C "$src" --strip-components=1
	touch "$src/.unpacked"
fi

# The build tree is kept between keys so a changed fragment rebuilds only
# what it touches.
build=$lab_cache/$build_dir
mkdir -p "$build"
kmake() {
	nice -n 10 make -C "$src" O="$build" ARCH="$arch" ${cross:+CROSS_COMPILE=$cross} "$@"
}

lab_log "configuring $arch: tinyconfig + $(basename -a "${fragments[@]}" | paste -sd+)"
# The three steps are chatty; their output is shown only when one fails.
{
	kmake tinyconfig &&
		(cd "$src" && scripts/kconfig/merge_config.sh -m -O "$build" "$build/.config" "${fragments[@]}") &&
		kmake olddefconfig
} >"$build/config.log" 2>&1 || {
	cat "$build/config.log" >&2
	lab_die "configuring the kernel failed"
}

# A missing dependency makes olddefconfig drop an option without a word:
# name every option of the fragment that did not end up as asked.
dropped=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$build/.config" || dropped+=("$line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$build/.config" || echo 'absent'))")
		;;
	'# CONFIG_'*' is not set')
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$build/.config" || dropped+=("$line (got: $(grep "^$opt=" "$build/.config"))")
		;;
	esac
done < <(cat "${fragments[@]}")
if [ ${#dropped[@]} -gt 0 ]; then
	printf '  %s\n' "${dropped[@]}" >&2
	lab_die "${#dropped[@]} option(s) of $(basename -a "${fragments[@]}" | paste -sd' ') did not survive olddefconfig; add their dependencies"
fi

jobs=$(nproc)
lab_log "building $target for $arch with -j$jobs (a few minutes on 2 cores; log: $build/build.log)"
# Print a line every 200 build steps so a CI log shows it is alive.
set +e
kmake -j"$jobs" "$target" 2>&1 | awk -v logfile="$build/build.log" '
	{ print > logfile; n++ }
	n % 200 == 0 { printf "build-kernel.sh: %d steps, at %s\n", n, $NF > "/dev/stderr"; fflush("/dev/stderr") }'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
	tail -n 40 "$build/build.log" >&2
	lab_die "make $target failed (exit $status); full log: $build/build.log"
fi

cp "$build/arch/${arch%_64}/boot/$target" "$image.tmp"
cp "$build/.config" "$lab_cache/$config_name-$key"
mv "$image.tmp" "$image"
# Keep only this architecture's current image; old keys are never used again.
find "$lab_cache" -maxdepth 1 -regextype posix-extended \
	-regex ".*/($cached_name|$config_name)-[0-9a-f]{16}" ! -name "*-$key" -delete
lab_log "built $image ($(stat -c %s "$image") bytes) in $((SECONDS - started))s"
echo "$image"
