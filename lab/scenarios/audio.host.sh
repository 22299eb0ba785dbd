# shellcheck shell=bash
# audio, host side: a LiveKit server and a listener (lab-hostview audio).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
lab_hostview audio
