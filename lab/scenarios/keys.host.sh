# shellcheck shell=bash
# keys, host side: a LiveKit server and a viewer (lab-hostview keys).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
lab_hostview keys
