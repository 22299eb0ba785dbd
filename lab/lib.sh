# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Shared helpers for the lab's host-side scripts. Sourced, never run.

# lab_dir is the directory holding the lab scripts.
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# lab_cache holds the kernel source, build tree, bzImage and initramfs images.
lab_cache=${CALLBOX_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/callbox/lab}

# lab_arch prints the architecture the lab runs as: $ARCH, x86_64 (the
# default) or arm64.
lab_arch() {
	case ${ARCH:-x86_64} in
	x86_64 | x86 | amd64) echo x86_64 ;;
	arm64 | aarch64) echo arm64 ;;
	*) lab_die "ARCH=$ARCH: the lab runs as x86_64 or arm64" ;;
	esac
}

# lab_log prints a progress line on stderr, prefixed with the script's name,
# so stdout stays free for the one path a build script returns.
lab_log() {
	printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

lab_die() {
	lab_log "error: $*"
	exit 1
}

# lab_need_packages installs the Debian packages named that are missing.
lab_need_packages() {
	local pkg missing=()
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		lab_die "missing packages (run as root, or install them): ${missing[*]}"
	fi
	lab_log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; } ||
		lab_die "apt-get install ${missing[*]} failed"
}

# lab_unpack_deb PACKAGE ARCH DIR unpacks Debian's PACKAGE of architecture
# ARCH (e.g. busybox-static arm64) into DIR, adding ARCH to dpkg's foreign
# architectures first if apt does not know it yet. Nothing is installed.
lab_unpack_deb() {
	local pkg=$1 arch=$2 dir=$3 tmp
	if ! apt-cache show "$pkg:$arch" >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] || lab_die "apt knows no $pkg:$arch: run as root, or dpkg --add-architecture $arch && apt-get update"
		lab_log "adding $arch to dpkg's architectures for $pkg:$arch"
		dpkg --add-architecture "$arch"
		apt-get update -q >&2 || lab_die "apt-get update failed"
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/callbox-deb.XXXXXX")
	(cd "$tmp" && apt-get download -q "$pkg:$arch" >&2) || { rm -rf "$tmp"; lab_die "apt-get download $pkg:$arch failed"; }
	mkdir -p "$dir"
	dpkg-deb -x "$tmp"/*.deb "$dir" || { rm -rf "$tmp"; lab_die "cannot unpack $pkg:$arch"; }
	rm -rf "$tmp"
}

# --- For host-side scenario parts (lab/scenarios/NAME.host.sh), which run.sh
# starts inside the test's network namespace next to the VM, with LAB_OUT,
# LAB_CONSOLE, LAB_QMP, LAB_CTL, LAB_NETNS, LAB_HOST_IP, LAB_GUEST_IP and
# LAB_STARTED_NS (when qemu started, in ns since the epoch) set.

# lab_host_fail records why the host side failed and ends it; run.sh reports
# the scenario as failed with this reason.
lab_host_fail() {
	echo "$*" >"$LAB_OUT/host-fail-reason"
	lab_log "FAIL: $*"
	# A guest in wait_host gives up at once instead of at its time limit.
	lab_tell_guest host-failed 2>/dev/null || true
	exit 1
}

# lab_wait_event NAME SECONDS waits until the guest prints "LAB-EVENT: NAME"
# (guest.sh's `event NAME`) on its console.
lab_wait_event() {
	local deadline=$((SECONDS + $2))
	until grep -aq "^LAB-EVENT: $1"$'\r'"\?\$" "$LAB_CONSOLE" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# lab_qmp COMMAND [ARGUMENTS-JSON] runs one QMP command on the VM's monitor
# and prints the reply; it fails if the reply is an error.
lab_qmp() {
	local request reply
	request="{\"execute\":\"$1\"${2:+,\"arguments\":$2}}"
	reply=$(printf '{"execute":"qmp_capabilities"}\n%s\n' "$request" |
		socat -t 5 - "UNIX-CONNECT:$LAB_QMP" | grep -v '"QMP"' | sed -n 2p)
	echo "$reply"
	case $reply in *'"return"'*) return 0 ;; esac
	return 1
}

# lab_tell_guest LINE writes LINE on the guest's control channel, where the
# guest's `wait_host LINE` sees it.
lab_tell_guest() {
	printf '%s\n' "$1" | socat -t 1 - "UNIX-CONNECT:$LAB_CTL"
}

# lab_screendump FILE.ppm saves what the bochs display shows.
lab_screendump() {
	lab_qmp screendump "{\"filename\":\"$1\"}" >/dev/null && [ -s "$1" ]
}

# lab_hostview SCENARIO runs lab-hostview (lab/hostview: a LiveKit server
# and a viewer) for a call scenario; it records its own failure reason.
# The binary is $LAB_HOSTVIEW, else bin/lab-hostview (make lab-test builds it).
lab_hostview() {
	local bin=${LAB_HOSTVIEW:-$lab_dir/../bin/lab-hostview}
	[ -x "$bin" ] || lab_host_fail "no $bin: build it with go build -tags dynamic -o bin/lab-hostview ./lab/hostview (make lab-test does)"
	"$bin" "$1"
}

# lab_usage prints the calling script's header comment.
lab_usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
}
