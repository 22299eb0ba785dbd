#!/bin/bash
# Writes genimage.cfg for a Raspberry Pi: the boot partition holds every
# file the firmware package left in rpi-firmware/, the device trees,
# U-Boot and its boot script. Called by post-image.sh as
#   prepare-image.sh BOARD_DIR GENIMAGE_CFG
set -euo pipefail
board_dir=$1
out=$2
rpi_dir=$(dirname "$board_dir")/rpi

files=()
for f in "${BINARIES_DIR}"/*.dtb "${BINARIES_DIR}"/rpi-firmware/* \
	"${BINARIES_DIR}/u-boot.bin" "${BINARIES_DIR}/boot.scr"; do
	[ -e "$f" ] || continue
	files+=("${f#"${BINARIES_DIR}"/}")
done
boot_files=$(printf '\\t\\t\\t"%s",\\n' "${files[@]}")
sed "s|#BOOT_FILES#|${boot_files}|" "$rpi_dir/genimage.cfg.in" > "$out"
