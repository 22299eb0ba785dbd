# shellcheck shell=bash
# cec, host side: a LiveKit server and a viewer in the box's line, the
# caller (lab-hostview cec).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
lab_hostview cec
