#!/usr/bin/env bash
# Builds FFmpeg for Callbox: static libavcodec with only the decoders
# Callbox uses (H.264, VP8, Opus), libswscale, libswresample (the Opus
# decoder needs it) and libavutil, into
# ${XDG_CACHE_HOME:-~/.cache}/callbox/ffmpeg-lean-GOARCH, for the host's
# architecture or cross-compiled for another (arm64 with Debian's
# gcc-aarch64-linux-gnu; scripts/deps.sh installs it). The Makefile puts the
# pkgconfig folder of the GOARCH it builds for first in PKG_CONFIG_PATH.
#
#   ffmpeg-lean.sh [--stamp] [GOARCH]    GOARCH: amd64 or arm64 (default: the host's)
#
# Why: Debian's libavcodec links some ninety other libraries (x265, dav1d,
# aom, codec2, rsvg, zvbi, ...). Every one is loaded into callboxd, which
# decodes the others' video, and together they held 15 MB of its resident
# memory (make bench's rss_mb) and slowed its start. The box's Buildroot
# FFmpeg is built with few libraries; this is the host's equivalent.
#
# The source is the one of the FFmpeg Debian installed (libavcodec-dev),
# fetched by apt-get source through a source list of its own, from the
# archive that version came from: the system's apt settings are not touched.
# It builds once per architecture (about a minute and a half on 2 cores; 3
# minutes for arm64) and again only when Debian's version or the recipe
# below changes. The source is the same for every architecture: the one of
# the host's libavcodec-dev. A build without make
# (plain `go build`) links Debian's FFmpeg, which decodes the same.
#
# `ffmpeg-lean.sh --stamp` prints the version and recipe it builds, without
# building: the Makefile passes it to the C compiler (-D), because Go's build
# cache does not hash what pkg-config answers; the stamp keeps builds against
# Debian's FFmpeg, or an older lean one, apart.
set -euo pipefail

stamp_only=false
if [ "${1:-}" = --stamp ]; then
	stamp_only=true
	shift
fi
host_arch=$(dpkg --print-architecture) # Debian's names are Go's for these two
arch=${1:-$host_arch}
case $arch in
amd64) triplet=x86_64-linux-gnu ffmpeg_arch=x86_64 ;;
arm64) triplet=aarch64-linux-gnu ffmpeg_arch=aarch64 ;;
*)
	echo "ffmpeg-lean: GOARCH=$arch: Callbox builds for amd64 and arm64" >&2
	exit 2
	;;
esac

cache=${XDG_CACHE_HOME:-$HOME/.cache}/callbox
out=$cache/ffmpeg-lean-$arch
recipe=1 # bump when the configure line changes

stamp() { # letters, digits and _ only, for -D
	local version
	version=$(dpkg-query -W -f='${Version}' libavcodec-dev 2>/dev/null) || return 0
	printf '%s_r%s_%s' "$version" "$recipe" "$arch" | tr -c 'A-Za-z0-9_' _
}
if $stamp_only; then
	stamp
	exit 0
fi

version=$(dpkg-query -W -f='${Version}' libavcodec-dev)
stamp=$(stamp)
built() { [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; }
built && exit 0
# One build at a time: make may run in two shells at once.
mkdir -p "$cache"
exec 9>"$cache/ffmpeg-lean-$arch.lock"
flock 9
built && exit 0

# " 500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages"
# under the "*** VERSION" line of apt-cache policy: where that version came from.
origin=$(apt-cache policy libavcodec-dev | awk -v v="$version" '
	$1 == "***" && $2 == v { mine = 1; next }
	mine && $NF == "Packages" && $2 ~ /:\/\// { print $2, $3; exit }
	mine && $NF != "Packages" && $2 !~ /^\// { exit } # the next version')
if [ -z "$origin" ]; then
	echo "ffmpeg-lean: cannot tell which archive libavcodec-dev $version came from (apt-cache policy libavcodec-dev); run apt-get update" >&2
	exit 1
fi
read -r uri suite_component <<<"$origin"
suite=${suite_component%/*}
component=${suite_component##*/}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources" "$work/lists/partial" "$work/archives/partial" "$work/src"
: >"$work/sources.list"
printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n' "$uri" "$suite" "$component" >"$work/sources/ffmpeg.sources"
apt=(apt-get -qq -o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts="$work/sources"
	-o Dir::State::Lists="$work/lists" -o Dir::Cache::Archives="$work/archives" -o Debug::NoLocking=1)
# apt downloads as _apt, which cannot write into a private folder of root's.
[ "$(id -u)" -ne 0 ] || apt+=(-o APT::Sandbox::User=root)

echo "ffmpeg-lean: building FFmpeg $version for $arch with only the H.264, VP8 and Opus decoders (once, about 2 minutes)"
"${apt[@]}" update
(cd "$work/src" && "${apt[@]}" source --download-only "ffmpeg=$version")
tar -xf "$work"/src/ffmpeg_*.orig.tar.xz -C "$work/src"
src=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'ffmpeg-*')

# Another architecture's: Debian's cross compiler, with FFmpeg's assembly
# for it (NEON on arm64) as on the host.
cross=()
if [ "$arch" != "$host_arch" ]; then
	cross=(--enable-cross-compile --target-os=linux --arch="$ffmpeg_arch" --cross-prefix="$triplet-")
	command -v "$triplet-gcc" >/dev/null ||
		{ echo "ffmpeg-lean: no $triplet-gcc to build for $arch (scripts/deps.sh $arch installs it)" >&2; exit 1; }
fi

rm -rf "$out.new"
(
	cd "$src"
	# --disable-autodetect: nothing from the system (no VA-API, VDPAU, X11,
	# zlib...), so the static libraries need only libm and pthreads.
	./configure "${cross[@]}" --prefix="$out" --libdir="$out.new/lib" --incdir="$out.new/include" \
		--disable-everything --disable-autodetect --disable-programs --disable-doc \
		--disable-network --disable-avformat --disable-avdevice --disable-avfilter \
		--disable-postproc --disable-debug \
		--enable-decoder=h264,vp8,opus --enable-static --disable-shared --enable-pic \
		>"$work/configure.log" 2>&1 || { tail -20 "$work/configure.log" >&2; exit 1; }
	make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -20 "$work/make.log" >&2; exit 1; }
	make install >>"$work/make.log" 2>&1
)
# The .pc files name $out/lib and $out/include; they were installed into
# $out.new so that a failed build never leaves half a library at $out.
sed -i "s|$out.new|$out|g" "$out.new"/lib/pkgconfig/*.pc
printf '%s\n' "$stamp" >"$out.new/stamp"
rm -rf "$out"
mv "$out.new" "$out"
echo "ffmpeg-lean: done, in $out"
