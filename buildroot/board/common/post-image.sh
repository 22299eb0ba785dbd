#!/bin/bash
# Post-image for every Callbox board: the SD card (or disk) image with the
# A/B layout, then the signed RAUC update bundle. Buildroot calls it with
# the images directory as $1 and BR2_ROOTFS_POST_SCRIPT_ARGS after it:
#   $2  the board's RAUC compatible string (callbox-rpi4, ...)
#   $3  the board folder (prepare-image.sh, genimage.cfg.in)
set -euo pipefail

compatible=$2
board_dir=$3
external=${BR2_EXTERNAL_CALLBOX_PATH:?run by Buildroot with BR2_EXTERNAL}
version=${CALLBOX_VERSION:-$(date -u +%Y.%m.%d-%H%M)}

# 1. sdcard.img
"$board_dir/prepare-image.sh" "$board_dir" "${BINARIES_DIR}/genimage.cfg"
root_tmp=$(mktemp -d)
bundle_tmp=$(mktemp -d)
trap 'rm -rf "$root_tmp" "$bundle_tmp"' EXIT
rm -rf "${BUILD_DIR}/genimage.tmp"
genimage \
	--rootpath "$root_tmp" \
	--tmppath "${BUILD_DIR}/genimage.tmp" \
	--inputpath "${BINARIES_DIR}" \
	--outputpath "${BINARIES_DIR}" \
	--config "${BINARIES_DIR}/genimage.cfg"

# 2. The update bundle: the root file system, signed.
key=$("$external/scripts/keys.sh" key "$BASE_DIR")
cert=$("$external/scripts/keys.sh" cert "$BASE_DIR")
cp "${BINARIES_DIR}/rootfs.ext4" "$bundle_tmp/rootfs.ext4"
cat > "$bundle_tmp/manifest.raucm" <<MANIFEST
[update]
compatible=$compatible
version=$version

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
MANIFEST
bundle="${BINARIES_DIR}/$compatible-$version.raucb"
rm -f "$bundle"
rauc --cert="$cert" --key="$key" bundle "$bundle_tmp" "$bundle"
# The bundle must verify against the keyring the image carries.
rauc --keyring="${TARGET_DIR}/etc/rauc/keyring.pem" info "$bundle" > /dev/null
ln -sf "$(basename "$bundle")" "${BINARIES_DIR}/update.raucb"
echo "Callbox: ${BINARIES_DIR}/sdcard.img and $bundle"
