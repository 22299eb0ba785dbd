#!/bin/bash
# shellcheck disable=SC2016 # $(...) in single quotes: Buildroot's own syntax
# Checks the Buildroot external tree without Buildroot (CI cannot download
# it). make test runs it through buildroot_test.go, which also runs it on
# broken copies to see each check fail.
#
#   buildroot/check.sh [TREE]     TREE defaults to this script's folder
#
# 1. defconfigs: every BR2_ option is one the release in VERSION defines
#    (the generated list kconfig-symbols.txt) or one this tree's Config.in
#    defines; files they name inside this tree exist.
# 2. package/callboxd: the main rules of Buildroot's utils/check-package
#    (the full tool is run by hand; see README.md).
# 3. systemd units: systemd-analyze verify, with no complaint at all.
# 4. modes: scripts executable, nothing writable by everyone, no private key
#    anywhere, files that can hold secrets listed as 0600 in permissions.txt.
set -uo pipefail

tree=$(cd "${1:-$(dirname "$0")}" && pwd)
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# --- 1. defconfigs ------------------------------------------------------------

check_defconfigs() {
	local version commit own known sym defconfig path
	version=$(sed -n 's/^BUILDROOT_VERSION=//p' "$tree/VERSION")
	commit=$(sed -n 's/^BUILDROOT_COMMIT=//p' "$tree/VERSION")
	if ! grep -qx "# buildroot $version $commit" "$tree/kconfig-symbols.txt"; then
		fail "kconfig-symbols.txt was not generated from Buildroot $version ($commit): run scripts/gen-kconfig-symbols.sh"
	fi
	own=$(find "$tree" -name Config.in -type f -exec sed -n \
		's/^[[:space:]]*\(menu\)\{0,1\}config[[:space:]]\{1,\}\(BR2_[A-Za-z0-9_]*\).*/\2/p' {} + | sort -u)
	known=$(printf '%s\n%s\n' "$own" "$(grep -v '^#' "$tree/kconfig-symbols.txt")" | sort -u)

	local found=0
	for defconfig in "$tree"/configs/*_defconfig; do
		[ -e "$defconfig" ] || continue
		found=1
		local name=${defconfig##*/} lineno=0 line
		while IFS= read -r line || [ -n "$line" ]; do
			lineno=$((lineno + 1))
			case $line in
			'' | '# '*' is not set') ;;
			'#'*) continue ;;
			esac
			[ -z "$line" ] && continue
			sym=${line#\# }
			sym=${sym%% is not set}
			sym=${sym%%=*}
			if [[ ! $sym =~ ^BR2_[A-Za-z0-9_]+$ ]]; then
				fail "$name:$lineno: not an option line: $line"
				continue
			fi
			if ! grep -qxF "$sym" <<< "$known"; then
				fail "$name:$lineno: $sym is defined neither by Buildroot $version nor by this tree"
			fi
		done < "$defconfig"
		# Files of this tree named in the defconfig must exist.
		while IFS= read -r path; do
			[ -e "$tree/$path" ] || fail "$name: names $path, which is not in the tree"
		done < <(grep -o '\$(BR2_EXTERNAL_CALLBOX_PATH)/[^" ]*' "$defconfig" | sed 's/^\$(BR2_EXTERNAL_CALLBOX_PATH)\///')
	done
	[ "$found" = 1 ] || fail "configs/: no defconfig"

	# What our Config.in files depend on or select must exist too.
	while IFS= read -r sym; do
		grep -qxF "$sym" <<< "$known" ||
			fail "package Config.in uses $sym, defined neither by Buildroot $version nor by this tree"
	done < <(find "$tree/package" -name Config.in -type f -exec grep -hE '^[[:space:]]*(depends on|select|default|if)' {} + |
		grep -oE 'BR2_[A-Za-z0-9_]+' | sort -u)
}

# --- 2. package style ---------------------------------------------------------

check_package() {
	local dir=$tree/package/callboxd mk config
	mk=$dir/callboxd.mk
	config=$dir/Config.in
	[ -f "$mk" ] || { fail "package/callboxd/callboxd.mk is missing"; return; }
	[ -f "$config" ] || { fail "package/callboxd/Config.in is missing"; return; }
	local hashes
	hashes=$(printf '#%.0s' $(seq 80))
	local header
	header=$(printf '%s\n#\n# callboxd\n#\n%s\n' "$hashes" "$hashes")
	[ "$(head -5 "$mk")" = "$header" ] || fail "callboxd.mk: the header is not 80 hashes, '# callboxd', 80 hashes"
	[ -z "$(sed -n 6p "$mk")" ] || fail "callboxd.mk:6: should be a blank line after the header"
	[ "$(grep -v '^[[:space:]]*$' "$mk" | tail -1)" = '$(eval $(golang-package))' ] ||
		fail 'callboxd.mk: the last line is not $(eval $(golang-package))'
	grep -nE '^[A-Z0-9_]+[[:space:]]*[:+?]?=' "$mk" | grep -vE '^[0-9]+:CALLBOXD_' | while IFS= read -r l; do
		echo "FAIL: callboxd.mk:${l%%:*}: variable not prefixed with CALLBOXD_: ${l#*:}"
	done | grep . && failures=$((failures + 1))
	grep -nE '^define ' "$mk" | grep -vE ':define CALLBOXD_' | grep . &&
		fail "callboxd.mk: a define not prefixed with CALLBOXD_"
	grep -qE '^CALLBOXD_TAGS[[:space:]]*\+?=.*\bdynamic\b' "$mk" || fail "callboxd.mk: CALLBOXD_TAGS lacks the dynamic build tag"
	grep -qE 'CGO_ENABLED=1' "$mk" || fail "callboxd.mk: cgo is not turned on (CGO_ENABLED=1)"

	local f
	for f in "$mk" "$config"; do
		grep -nE '[[:space:]]+$' "$f" | while IFS= read -r l; do
			echo "FAIL: ${f#"$tree"/}:${l%%:*}: trailing whitespace"
		done | grep . && failures=$((failures + 1))
	done

	# Config.in: "config" at the margin, attributes one tab in, help two
	# spaces further, the way check-package wants it.
	awk -v file="package/callboxd/Config.in" '
		function bad(msg) { printf "FAIL: %s:%d: %s\n", file, NR, msg; n++ }
		/^(config|menuconfig|comment|if|endif|menu|endmenu|source) / || /^(endif|endmenu)$/ { help = 0; next }
		/^$/ { next }
		/^\thelp$/ { help = 1; next }
		help && !/^\t  [^ \t]/ { bad("help text should be one tab and two spaces in") ; next }
		help { if (length($0) > 72 + 3) bad("help text longer than 72 columns"); next }
		/^\t(bool|tristate|string|int|hex|depends on|select|default|prompt|range|imply) / || /^\t\t/ { next }
		{ bad("should be indented with one tab") }
		END { exit n > 0 }
	' "$config" || failures=$((failures + 1))
	# Which libraries it selects and depends on: buildroot_test.go, from
	# what cgo links (it needs the Go tree).
	grep -qE '^CALLBOXD_LICENSE[[:space:]]*=[[:space:]]*[^[:space:]]' "$mk" ||
		fail "callboxd.mk: CALLBOXD_LICENSE is not set"
	grep -qE '^CALLBOXD_LICENSE_FILES[[:space:]]*=.*\bLICENSE\b' "$mk" ||
		fail "callboxd.mk: CALLBOXD_LICENSE_FILES does not name LICENSE"
	grep -q 'depends on BR2_PACKAGE_HOST_GO_TARGET_CGO_LINKING_SUPPORTS' "$config" ||
		fail "package/callboxd/Config.in: a cgo package must depend on BR2_PACKAGE_HOST_GO_TARGET_CGO_LINKING_SUPPORTS"
}

# --- 3. systemd units -----------------------------------------------------------

check_units() {
	if ! command -v systemd-analyze > /dev/null; then
		fail "systemd-analyze is not installed (apt-get install systemd)"
		return
	fi
	local root unit out units=()
	root=$(mktemp -d)
	# The image as far as the units need it: the host's own units for
	# targets and sockets, our overlays, and callboxd where the package
	# puts it. A unit naming a script that is not in the overlay fails.
	mkdir -p "$root/usr/lib/systemd" "$root/usr/bin" "$root/etc/systemd/system"
	cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
	local overlay
	for overlay in "$tree"/board/*/rootfs-overlay; do
		[ -d "$overlay" ] && cp -a "$overlay/." "$root/"
	done
	cp "$tree/package/callboxd/callboxd.service" "$root/usr/lib/systemd/system/"
	printf '#!/bin/sh\n' > "$root/usr/bin/callboxd"
	chmod 755 "$root/usr/bin/callboxd"
	for stub in rauc fw_printenv fw_setenv grub-editenv; do
		cp "$root/usr/bin/callboxd" "$root/usr/bin/$stub"
	done
	while IFS= read -r unit; do
		units+=("$(basename "$unit")")
	done < <(find "$tree/package" "$tree"/board/*/rootfs-overlay -type f \
		\( -name '*.service' -o -name '*.mount' -o -name '*.timer' -o -name '*.socket' -o -name '*.target' \))
	for unit in "${units[@]}"; do
		# verify says what it dislikes on stderr but exits 0 for much of
		# it (an unknown key, a bad value): any word from it is a failure.
		if ! out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$root" "$unit" 2>&1) ||
			[ -n "$out" ]; then
			fail "systemd-analyze verify $unit: ${out//$root/}"
		fi
	done
	rm -rf "$root"
}

# --- 4. modes ---------------------------------------------------------------------

check_modes() {
	local f mode
	while IFS= read -r -d '' f; do
		mode=$(stat -c '%a' "$f")
		if [ $((8#$mode & 8#002)) -ne 0 ] && { [ ! -d "$f" ] || [ $((8#$mode & 8#1000)) -eq 0 ]; }; then
			fail "${f#"$tree"/} is writable by everyone (mode $mode)"
		fi
		[ -f "$f" ] || continue
		if [ "$(head -c 2 "$f")" = '#!' ]; then
			[ -x "$f" ] || fail "${f#"$tree"/} is a script but not executable (mode $mode)"
		elif [ -x "$f" ]; then
			fail "${f#"$tree"/} is executable but not a script (mode $mode)"
		fi
		if grep -q -- '-----BEGIN [A-Z ]*PRIVATE KEY-----' "$f"; then
			fail "${f#"$tree"/} holds a private key: keys never go in the repo (see scripts/keys.sh)"
		fi
	done < <(find "$tree" -path "$tree/output" -prune -o \( -type f -o -type d \) \
		! -name '*_test.go' ! -name 'kconfig-symbols.txt' -print0)

	# Files in the image that can hold secrets must be root's alone.
	local table=$tree/board/common/permissions.txt
	local secret entry
	while IFS= read -r secret; do
		entry=$(awk -v name="$secret" '$1 == name && $2 == "f" { print $3 }' "$table")
		case $entry in
		600 | 400 | 0600 | 0400) ;;
		'') fail "$secret can hold secrets but permissions.txt does not make it 0600" ;;
		*) fail "$secret can hold secrets but permissions.txt makes it $entry, not 0600" ;;
		esac
	done < <(
		for overlay in "$tree"/board/*/rootfs-overlay; do
			(cd "$overlay" && find . -type f \( -name '*.toml' -o -name '*.key' -o -name '*.psk' \
				-o -name 'wpa_supplicant*.conf' -o -name 'hostapd*.conf' -o -name '*secret*' \)) |
				sed 's/^\.//'
		done
		# Installed by post-build.sh rather than the overlay.
		sed -n 's/.*"\$TARGET_DIR\(\/etc\/callbox\/[^"]*\)".*/\1/p' "$tree/board/common/post-build.sh"
	)
}

check_defconfigs
check_package
check_units
check_modes

if [ "$failures" -gt 0 ]; then
	echo "buildroot/check.sh: $failures problem(s) in $tree"
	exit 1
fi
echo "buildroot/check.sh: $tree is fine"
