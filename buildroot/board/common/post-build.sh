#!/bin/sh
# Post-build for every Callbox board. Buildroot calls it with the images
# directory as $1 and BR2_ROOTFS_POST_SCRIPT_ARGS after it:
#   $2  the board's RAUC compatible string (callbox-rpi4, ...)
#   $3  the board folder (for system.conf)
# The RAUC keyring comes from $CALLBOX_RAUC_CERT, or the development
# certificate that keys.sh made in the output directory.
set -eu

compatible=$2
board_dir=$3
external=${BR2_EXTERNAL_CALLBOX_PATH:?run by Buildroot with BR2_EXTERNAL}

# Mount points on the read-only root.
mkdir -p "$TARGET_DIR/data" "$TARGET_DIR/boot/firmware" "$TARGET_DIR/boot/efi"

# RAUC: this board's slots and the certificate bundles must be signed with.
install -d -m 0755 "$TARGET_DIR/etc/rauc"
sed "s/@COMPATIBLE@/$compatible/" "$board_dir/system.conf" \
	> "$TARGET_DIR/etc/rauc/system.conf"
chmod 0644 "$TARGET_DIR/etc/rauc/system.conf"
cp "$("$external/scripts/keys.sh" cert "$BASE_DIR")" "$TARGET_DIR/etc/rauc/keyring.pem"
chmod 0644 "$TARGET_DIR/etc/rauc/keyring.pem"

# The compatible string also names the image for people and tools.
printf '%s\n' "$compatible" > "$TARGET_DIR/etc/callbox-board"

# Nothing in the image may be writable by everyone but sticky directories
# (a checkout made with umask 000 must not leak into the image).
find "$TARGET_DIR" -xdev -perm -0002 ! -type l \
	! \( -type d -perm -1000 \) -exec chmod o-w {} +
