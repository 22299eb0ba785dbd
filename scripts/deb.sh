#!/usr/bin/env bash
# make deb [GOARCH=arm64]: the Debian package callbox_<version>_<arch>.deb,
# in dist/, from the binaries make built (bin/ or bin/GOARCH/). Debian's
# own tools make it: dpkg-buildpackage with debhelper on a copy of debian/
# (see debian/rules), so Depends come from the binaries (dpkg-shlibdeps)
# and the maintainer scripts are debhelper's. Prints the package's path.
#
#   scripts/deb.sh GOARCH BINDIR
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:?usage: deb.sh GOARCH BINDIR}
bindir=${2:?usage: deb.sh GOARCH BINDIR}
for b in callboxd callboxctl; do
	[ -x "$bindir/$b" ] || { echo "deb: no $bindir/$b (make build GOARCH=$arch makes it)" >&2; exit 1; }
done
version=$(scripts/version.sh)
if [[ ! $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
	echo "deb: version $version is not a Debian version (a digit, then letters, digits, . + ~)" >&2
	exit 1
fi
# The Debian source of the FFmpeg linked in (scripts/ffmpeg-lean.sh builds
# the one of the host's libavcodec-dev).
ffmpeg=$(dpkg-query -W -f='${source:Package} (= ${source:Version})' libavcodec-dev)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
src=$stage/callbox-$version
mkdir -p "$src/bin"
cp -a debian "$src/"
rm -f "$src"/debian/*.go # its tests
cp "$bindir/callboxd" "$bindir/callboxctl" "$src/bin/"
cp buildroot/package/callboxd/callboxd.service "$src/"
# The package's date is the commit's, so one commit makes the same package.
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
maintainer=$(sed -n 's/^Maintainer: //p' debian/control)
cat >"$src/debian/changelog" <<CHANGELOG
callbox ($version) bookworm; urgency=medium

  * Built by make deb from commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown).

 -- $maintainer  $date
CHANGELOG

(
	cd "$src"
	# -d: the build needs no build dependencies (nothing is compiled).
	CALLBOX_BUILT_USING=$ffmpeg dpkg-buildpackage --host-arch="$arch" -b -d -us -uc \
		>"$stage/build.log" 2>&1 || { tail -30 "$stage/build.log" >&2; exit 1; }
)
mkdir -p dist
deb=dist/callbox_${version}_$arch.deb
mv "$stage/callbox_${version}_$arch.deb" "$deb"
echo "$deb"
