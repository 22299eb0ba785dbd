#!/usr/bin/env bash
# Installs the Debian packages Callbox builds and tests with, if any is missing.
set -euo pipefail

packages=(
	gcc pkg-config            # cgo
	libx264-dev libvpx-dev libopus-dev      # encoders
	libavcodec-dev libavutil-dev libswscale-dev  # decoders, pixel conversion
	nasm xz-utils             # the lean FFmpeg built from Debian's source (scripts/ffmpeg-lean.sh)
	libspeexdsp-dev           # echo cancellation, noise suppression, gain (pipeline/aec.go)
	libdrm-dev                # <drm_mode.h> for the display ABI test (device/display)
	iproute2 util-linux       # network namespaces for the call server
	ffmpeg                    # test streams for the decoder tests
	chromium                  # the browser tests (provisioning/browsertest, web/guest)
	systemd                   # systemd-analyze verify of the image's units (buildroot/check.sh)
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (its own npm inside): ask for
# Debian's only when there is no npm at all.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "Installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# callboxd links an FFmpeg with only the decoders it uses; it says why.
"$(dirname "$0")/ffmpeg-lean.sh"
