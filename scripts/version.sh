#!/usr/bin/env bash
# Prints Callbox's version, for the Debian package and the image's update
# bundle: $CALLBOX_VERSION when set, else one from git that Debian orders
# by age, so that a newer build upgrades an older one:
#   1.2.0                       at the tag v1.2.0
#   1.2.0+git5.1a2b3c4          5 commits after it
#   0~git20260912.081530.1a2b3c4  before any tag: the commit's time (UTC)
# with "+dirty" after it when the checkout has changes not committed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${CALLBOX_VERSION:-}" ]; then
	printf '%s\n' "$CALLBOX_VERSION"
	exit 0
fi
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "version.sh: not a git checkout: set CALLBOX_VERSION" >&2
	exit 1
fi
hash=$(git rev-parse --short=7 HEAD)
if desc=$(git describe --tags --match 'v[0-9]*' --long 2>/dev/null); then
	# v1.2.0-5-g1a2b3c4
	count=${desc%-g*}
	count=${count##*-}
	tag=${desc%-*-g*}
	version=${tag#v}
	[ "$count" = 0 ] || version+="+git$count.$hash"
else
	version="0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d.%H%M%S).$hash"
fi
[ -z "$(git status --porcelain --untracked-files=no)" ] || version+="+dirty"
printf '%s\n' "$version"
