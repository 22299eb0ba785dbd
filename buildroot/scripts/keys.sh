#!/bin/sh
# The key and certificate that sign RAUC update bundles. Never in the repo.
#
#   keys.sh key OUTPUT_DIR    prints the private key's path (or PKCS#11 URI)
#   keys.sh cert OUTPUT_DIR   prints the certificate's path
#
# Release builds set CALLBOX_RAUC_KEY and CALLBOX_RAUC_CERT. Without them a
# development pair is made once in OUTPUT_DIR/callbox-dev-keys: a box
# flashed with such an image accepts only bundles signed by that pair, so
# keep it with the output directory, or rebuild both together.
#
# Making a release pair (keep rauc-release.key offline, 0600):
#   openssl req -x509 -newkey rsa:4096 -nodes -days 3650 \
#     -subj "/O=Your Org/CN=Callbox update signing" \
#     -keyout rauc-release.key -out rauc-release.cert.pem
#   chmod 600 rauc-release.key
#   CALLBOX_RAUC_KEY=$PWD/rauc-release.key \
#   CALLBOX_RAUC_CERT=$PWD/rauc-release.cert.pem make image BOARD=rpi4
set -eu

what=${1:?usage: keys.sh key|cert OUTPUT_DIR}
out=${2:?usage: keys.sh key|cert OUTPUT_DIR}

if [ -n "${CALLBOX_RAUC_KEY:-}" ] || [ -n "${CALLBOX_RAUC_CERT:-}" ]; then
	: "${CALLBOX_RAUC_KEY:?CALLBOX_RAUC_CERT is set: set CALLBOX_RAUC_KEY too}"
	: "${CALLBOX_RAUC_CERT:?CALLBOX_RAUC_KEY is set: set CALLBOX_RAUC_CERT too}"
	if [ ! -r "$CALLBOX_RAUC_CERT" ]; then
		echo "keys.sh: CALLBOX_RAUC_CERT=$CALLBOX_RAUC_CERT: cannot read it" >&2
		exit 1
	fi
	case $CALLBOX_RAUC_KEY in
	pkcs11:*) ;;
	*)
		if [ ! -r "$CALLBOX_RAUC_KEY" ]; then
			echo "keys.sh: CALLBOX_RAUC_KEY=$CALLBOX_RAUC_KEY: cannot read it" >&2
			exit 1
		fi
		;;
	esac
	key=$CALLBOX_RAUC_KEY
	cert=$CALLBOX_RAUC_CERT
else
	dir=$out/callbox-dev-keys
	key=$dir/dev.key
	cert=$dir/dev.cert.pem
	if [ ! -e "$key" ] || [ ! -e "$cert" ]; then
		echo "keys.sh: no CALLBOX_RAUC_KEY: making a DEVELOPMENT signing key in $dir" >&2
		mkdir -p "$dir"
		chmod 700 "$dir"
		(umask 077 && openssl req -x509 -newkey rsa:3072 -nodes -days 3650 \
			-subj "/O=Callbox development/CN=$(hostname) $(date -u +%F)" \
			-keyout "$key" -out "$cert" 2> /dev/null)
	fi
fi

case $what in
key) echo "$key" ;;
cert) echo "$cert" ;;
*)
	echo "keys.sh: $what: want key or cert" >&2
	exit 2
	;;
esac
