#!/usr/bin/env bash
# Installs the Debian packages Callbox builds and tests with, if any is missing.
#
#   scripts/deps.sh [GOARCH...]
#
# With a GOARCH other than the host's (arm64 on an amd64 machine), also what
# cross-building for it takes: Debian's cross compiler, the -dev packages of
# every library cgo links for that architecture (multiarch: dpkg
# --add-architecture), qemu-user to run its test binaries; and the lean
# FFmpeg built for it. Without one, no foreign package is installed.
set -euo pipefail

# What cgo links besides FFmpeg: the `#cgo pkg-config:` names in the tree
# (x264, speexdsp, libturbojpeg) and in pion/mediadevices with -tags
# dynamic (vpx, opus).
# FFmpeg itself is the lean one (below), built from the source of the
# host's libavcodec-dev.
cgo_dev=(libx264-dev libvpx-dev libopus-dev libspeexdsp-dev libturbojpeg0-dev)

packages=(
	gcc pkg-config            # cgo
	"${cgo_dev[@]}"           # encoders; echo cancellation, noise suppression, gain (pipeline/aec.go); MJPEG cameras (pipeline/mjpeg.go)
	libavcodec-dev libavutil-dev libswscale-dev  # decoders, pixel conversion
	nasm xz-utils             # the lean FFmpeg built from Debian's source (scripts/ffmpeg-lean.sh)
	libdrm-dev                # <drm_mode.h> for the display ABI test (device/display)
	iproute2 util-linux       # network namespaces for the call server
	nftables                  # a box whose network blocks UDP or drops out (internal/netns)
	ffmpeg                    # test streams for the decoder tests
	chromium                  # the browser tests (provisioning/browsertest, web/guest)
	systemd                   # systemd-analyze verify of the image's units (buildroot/check.sh)
	debhelper lintian         # make deb (debian/) and its test
	mmdebstrap                # a throwaway Debian root to install the package into (debian/deb_test.go)
	prometheus                # scrapes the box's metrics in cmd/callboxd's TestMetricsThroughPrometheus
	redis-server              # the store a cluster of call servers shares (internal/lkserver/cluster.go)
	fonts-droid-fallback fonts-nanum  # the screen's Chinese, Japanese and Korean letters (pipeline/compose/fallback.go)
)

host_arch=$(dpkg --print-architecture)
foreign=()
for arch in "$@"; do
	[ "$arch" = "$host_arch" ] && continue
	case $arch in
	arm64) triplet=aarch64-linux-gnu ;;
	amd64) triplet=x86_64-linux-gnu ;;
	*)
		echo "deps: GOARCH=$arch: Callbox builds for amd64 and arm64" >&2
		exit 2
		;;
	esac
	foreign+=("$arch")
	packages+=(
		"gcc-${triplet//_/-}" "libc6-dev:$arch"   # cgo's compiler and C library (and go4vl's kernel headers)
		"${cgo_dev[@]/%/:$arch}"                # Multi-Arch: same, so the very version the host has
		qemu-user-static                         # runs the test binaries (the ABI tests)
	)
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
added_arch=false
for arch in "${foreign[@]}"; do
	if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		echo "Adding the $arch architecture to dpkg (multiarch), for its -dev packages"
		$sudo dpkg --add-architecture "$arch"
		added_arch=true
	fi
done

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (its own npm inside): ask for
# Debian's only when there is no npm at all.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ] || $added_arch; then
	echo "Installing ${missing[*]}"
	$sudo apt-get update -qq
	# Lock::Timeout: wait for another apt-get (a second make) to finish.
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "${missing[@]}"
fi

# callboxd links an FFmpeg with only the decoders it uses; it says why.
for arch in "$host_arch" "${foreign[@]}"; do
	"$(dirname "$0")/ffmpeg-lean.sh" "$arch"
done
