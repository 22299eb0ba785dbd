#!/bin/bash
# make image BOARD=rpi4|rpi3|rpi5|qemu: builds the flashable image and the
# signed update bundle with the Buildroot release named in buildroot/VERSION
# and this external tree. Needs the internet (Buildroot downloads every
# package's source), about 15 GB of disk for one board and 1-3 hours.
#
#   BOARD          rpi4 (Pi 4, 400), rpi3 (Pi 3, Zero 2 W), rpi5, qemu
#   IMAGE_DIR      where outputs go (default ~/.cache/callbox/image)
#   BUILDROOT_DIR  a checkout of the release (default: fetched into IMAGE_DIR)
#   CALLBOX_RAUC_KEY, CALLBOX_RAUC_CERT   the update signing pair (see keys.sh);
#                  without them a development pair is made in the output
#   CALLBOX_VERSION  the bundle's version (default: scripts/version.sh, from git)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=/dev/null
. "$here/VERSION"

board=${BOARD:-}
case $board in
rpi4 | rpi3 | rpi5) defconfig=callbox_${board}_defconfig ;;
qemu | qemu_x86_64) defconfig=callbox_qemu_x86_64_defconfig board=qemu ;;
*)
	echo "make image: BOARD=$board: want rpi4, rpi3 (also Zero 2 W), rpi5 or qemu" >&2
	exit 2
	;;
esac

image_dir=${IMAGE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/callbox/image}
out=$image_dir/$board
br=${BUILDROOT_DIR:-$image_dir/buildroot-$BUILDROOT_VERSION}
mkdir -p "$out"
"$here/scripts/fetch-buildroot.sh" "$br"

# Buildroot's own Go (1.26.3 in 2026.02.3) is older than go.mod asks for and
# it builds with GOTOOLCHAIN=local, so the image is built with the Go this
# checkout builds with: host-go-bin from the GOROOT `go` picks here.
want_go=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$repo/go.mod")
{ read -r goroot && read -r gover; } < <(cd "$repo" && go env GOROOT GOVERSION)
gover=${gover#go}
if [ "$(printf '%s\n%s\n' "$want_go" "$gover" | sort -V | head -1)" != "$want_go" ]; then
	echo "make image: go.mod wants Go $want_go, $goroot is Go $gover" >&2
	exit 1
fi

# callboxd's source with its dependencies vendored: Buildroot builds Go
# offline (GOFLAGS=-mod=vendor, GOPROXY=off).
src=$out/callboxd-src
echo "Staging callboxd's source in $src"
rm -rf "$src"
mkdir -p "$src"
(cd "$repo" && git ls-files -co --exclude-standard -- . ':!buildroot' ':!lab' |
	tar -cf - -T -) | tar -xf - -C "$src"
(cd "$src" && GOFLAGS=-mod=mod go mod vendor)

# The version the Debian package has too (scripts/version.sh).
CALLBOX_VERSION=$("$repo/scripts/version.sh" 2> /dev/null) || CALLBOX_VERSION=$(date -u +%Y%m%d)

cat > "$out/local.mk" <<LOCAL
# Written by buildroot/scripts/image.sh.
CALLBOXD_OVERRIDE_SRCDIR = $src
HOST_GO_BIN_OVERRIDE_SRCDIR = $goroot
LOCAL

export BR2_DL_DIR=${BR2_DL_DIR:-$image_dir/dl}
export CALLBOX_VERSION
make -C "$br" O="$out" BR2_EXTERNAL="$here" "$defconfig"
make -C "$br" O="$out"

echo
echo "sdcard.img:    $out/images/sdcard.img"
echo "update bundle: $(readlink -f "$out/images/update.raucb")"
if [ -z "${CALLBOX_RAUC_KEY:-}" ]; then
	echo "Signed with the DEVELOPMENT key in $out/callbox-dev-keys: not for boxes you ship."
fi
