#!/bin/sh
# Puts the Buildroot release named in buildroot/VERSION into DIR (a shallow
# git clone of its tag) and checks that the tag is the commit VERSION names,
# so a moved tag or a different mirror cannot change what we build with.
# Does nothing when DIR already holds it.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: fetch-buildroot.sh DIR}
# shellcheck source=/dev/null
. "$here/VERSION"
url=${BUILDROOT_GIT_URL:-https://gitlab.com/buildroot.org/buildroot.git}

if [ ! -d "$dir/.git" ]; then
	echo "Fetching Buildroot $BUILDROOT_VERSION from $url"
	rm -rf "$dir.tmp"
	git -c advice.detachedHead=false clone --quiet --depth 1 --branch "$BUILDROOT_VERSION" "$url" "$dir.tmp"
	mv "$dir.tmp" "$dir"
fi
got=$(git -C "$dir" rev-parse HEAD)
if [ "$got" != "$BUILDROOT_COMMIT" ]; then
	echo "$dir: Buildroot $BUILDROOT_VERSION is commit $got, want $BUILDROOT_COMMIT (buildroot/VERSION)" >&2
	exit 1
fi
