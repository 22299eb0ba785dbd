# shellcheck shell=bash
# deb, host side: a LiveKit server and a viewer, and the box's setup over
# HTTPS (lab-hostview deb).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
lab_hostview deb
