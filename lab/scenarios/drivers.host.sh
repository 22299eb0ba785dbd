# shellcheck shell=bash
# drivers, host side: once the guest has painted its bochs display white,
# save it through the QMP monitor and check size and colour.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
set -euo pipefail

lab_wait_event display-up 120 || lab_host_fail "the guest never said display-up"
shot=$LAB_OUT/screen.ppm

# white: the middle row of the picture is 0xff in every channel. (Not the
# last row: the 6.1 fbdev emulation does not always flush the last page of a
# write to the screen.)
white() {
	local magic width height header
	# A binary PPM starts "P6\n<width> <height>\n255\n".
	read -r magic width height _ < <(head -c 20 "$shot" | tr "\n" " "; echo)
	[ "$magic" = P6 ] || lab_host_fail "$shot: not a binary PPM (starts with $magic)"
	if [ "$width" -lt 640 ] || [ "$height" -lt 480 ]; then
		lab_host_fail "$shot: ${width}x$height, want at least 640x480"
	fi
	header="P6 $width $height 255 "
	tail -c +$((${#header} + (height / 2) * width * 3 + 1)) "$shot" | head -c $((width * 3)) >"$shot.row"
	[ -s "$shot.row" ] && [ "$(tr -d '\377' <"$shot.row" | wc -c)" -eq 0 ]
}

# fbdev reaches the screen a moment after the guest's write: take pictures
# until it shows, 10 seconds at most.
deadline=$((SECONDS + 10))
until lab_screendump "$shot" && white; do
	[ "$SECONDS" -lt "$deadline" ] ||
		lab_host_fail "$shot: the display is not the white the guest painted (screendump: $(lab_qmp screendump "{\"filename\":\"$shot\"}"))"
	sleep 0.2
done
rm -f "$shot.row"
lab_log "screendump $shot: white as painted"
lab_tell_guest screendump-taken
