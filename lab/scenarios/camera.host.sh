# shellcheck shell=bash
# camera, host side: a LiveKit server and a viewer (lab-hostview camera).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
lab_hostview camera
