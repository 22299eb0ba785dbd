# Callbox A/B boot on a Raspberry Pi, in RAUC's U-Boot scheme. The slots
# are tried in BOOT_ORDER; each start of a slot uses one of its
# BOOT_<slot>_LEFT attempts, and "rauc status mark-good" (run by
# callbox-boot-check once callboxd is ready) gives them back. A slot that
# keeps failing runs out of attempts and the other one starts.
test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

setenv rauc_slot
for BOOT_SLOT in "${BOOT_ORDER}"; do
	if test -n "${rauc_slot}"; then
		true
	elif test "${BOOT_SLOT}" = "A"; then
		if test ${BOOT_A_LEFT} -gt 0; then
			setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
			setenv rauc_slot A
			setenv root_part 2
		fi
	elif test "${BOOT_SLOT}" = "B"; then
		if test ${BOOT_B_LEFT} -gt 0; then
			setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
			setenv rauc_slot B
			setenv root_part 3
		fi
	fi
done

if test -z "${rauc_slot}"; then
	echo "No slot has attempts left: giving both three more"
	setenv BOOT_A_LEFT 3
	setenv BOOT_B_LEFT 3
	saveenv
	reset
fi
saveenv

# Keep what the firmware put on the command line (cmdline.txt, its own
# settings) and add the slot's root file system, read-only.
fdt addr ${fdt_addr}
fdt get value firmware_args /chosen bootargs
setenv bootargs "${firmware_args} root=/dev/mmcblk0p${root_part} rootfstype=ext4 ro rauc.slot=${rauc_slot}"

echo "Starting slot ${rauc_slot}; attempts left: A ${BOOT_A_LEFT}, B ${BOOT_B_LEFT}"
load mmc 0:${root_part} ${kernel_addr_r} /boot/Image
booti ${kernel_addr_r} - ${fdt_addr}

echo "Slot ${rauc_slot} did not start; trying again"
reset
