# shellcheck shell=bash
# share, host side: a LiveKit server and a viewer of the box's shared
# content (lab-hostview share).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
lab_hostview share
