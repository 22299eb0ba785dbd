# shellcheck shell=bash
# screen, host side: a LiveKit server, a remote participant sending the
# test pattern, and QMP screendumps of the bochs display (lab-hostview screen).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
lab_hostview screen
