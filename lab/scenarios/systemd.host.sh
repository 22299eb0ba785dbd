# shellcheck shell=bash
# systemd, host side: a LiveKit server and a viewer (lab-hostview systemd),
# which sends the guest the image's unit file, buildroot/package/callboxd/
# callboxd.service ($LAB_UNIT to try another), and checks the box is back
# in the call after every restart.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
LAB_UNIT=${LAB_UNIT:-$lab_dir/../buildroot/package/callboxd/callboxd.service}
[ -f "$LAB_UNIT" ] || lab_host_fail "no unit file $LAB_UNIT"
export LAB_UNIT
lab_hostview systemd
