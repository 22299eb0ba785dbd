#!/bin/bash
# Puts Callbox's grub.cfg and a first grubenv (both slots good, A first)
# next to GRUB in the EFI partition and writes genimage.cfg. Called by
# post-image.sh as
#   prepare-image.sh BOARD_DIR GENIMAGE_CFG
set -euo pipefail
board_dir=$1
out=$2
efi_boot="${BINARIES_DIR}/efi-part/EFI/BOOT"

install -D -m 0644 "$board_dir/grub.cfg" "$efi_boot/grub.cfg"

# grubenv is exactly 1024 bytes: a header, name=value lines, '#' padding.
env_lines=$'# GRUB Environment Block\nORDER=A B\nA_OK=1\nB_OK=1\nA_TRY=0\nB_TRY=0\n'
{
	printf '%s' "$env_lines"
	head -c $((1024 - ${#env_lines})) /dev/zero | tr '\0' '#'
} > "$efi_boot/grubenv"

cp "$board_dir/genimage.cfg.in" "$out"
