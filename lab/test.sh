#!/bin/bash
# test.sh runs lab scenarios, one VM boot each, and prints one line per
# scenario, "PASS NAME" or "FAIL NAME <reason>", followed by the guest console
# log (and host-side log) of every failed one. Exits non-zero on any failure.
#
# Usage: lab/test.sh [-t SECONDS] [-b BINARY]... [--deb FILE]... [SCENARIO]...
#   SCENARIO    a name from lab/scenarios (default: all of them but those
#               that boot Debian, "# lab-boot: debian")
#   -t SECONDS  per-scenario time limit (run.sh's default otherwise)
#   -b BINARY   put BINARY into the guest's /usr/local/bin (e.g. callboxd)
#   --deb FILE  a package for the Debian scenarios (run.sh --deb)
# Env: LAB_OUT (default ${TMPDIR:-/tmp}/callbox-lab) keeps each run's logs;
#      ARCH (x86_64 or arm64, see run.sh).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

run_args=()
deb_args=()
while [ $# -gt 0 ]; do
	case $1 in
	-t) run_args+=(-t "${2:?-t needs seconds}"); shift 2 ;;
	-b) run_args+=(-b "${2:?-b needs a binary}"); shift 2 ;;
	--deb) deb_args+=(--deb "${2:?--deb needs a package file}"); shift 2 ;;
	-h | --help) lab_usage; exit 0 ;;
	-*) lab_die "unknown option $1" ;;
	*) break ;;
	esac
done

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
	for file in "$lab_dir"/scenarios/*.sh; do
		case $file in *.host.sh) continue ;; esac
		! grep -q '^# lab-boot: debian' "$file" || continue
		name=${file##*/}
		scenarios+=("${name%.sh}")
	done
fi
[ ${#scenarios[@]} -gt 0 ] || lab_die "no scenarios in $lab_dir/scenarios"

out_root=${LAB_OUT:-${TMPDIR:-/tmp}/callbox-lab}
[ "$(lab_arch)" = x86_64 ] || out_root=$out_root/$(lab_arch)
# Build once up front, so a slow first kernel build shows as such and not
# as the first scenario's time.
"$lab_dir/build-kernel.sh" >/dev/null

failed=()
for name in "${scenarios[@]}"; do
	out=$out_root/$name
	args=("${run_args[@]}")
	! grep -q '^# lab-boot: debian' "$lab_dir/scenarios/$name.sh" 2>/dev/null || args+=("${deb_args[@]}")
	if line=$("$lab_dir/run.sh" "${args[@]}" -o "$out" "$name"); then
		echo "$line"
	else
		echo "${line:-FAIL $name (run.sh gave no result)}"
		failed+=("$name")
	fi
done

for name in "${failed[@]}"; do
	out=$out_root/$name
	echo
	echo "===== $name: guest console ($out/console.log) ====="
	tr -d '\r' <"$out/console.log" 2>/dev/null || echo "(no console log)"
	if [ -s "$out/host.log" ]; then
		echo "===== $name: host side ($out/host.log) ====="
		cat "$out/host.log"
	fi
done

echo
echo "lab: $((${#scenarios[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
