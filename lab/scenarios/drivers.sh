# shellcheck shell=sh
# drivers: every device the box uses is really there in the lab VM, and the
# VM reaches the host inside the test's network namespace.
# shellcheck source-path=SCRIPTDIR source=../guest.sh
. /lab/guest.sh

step "vivid camera"
[ -n "$(video_nodes_named vivid-000-vid-cap)" ] || fail "no vivid capture node (vivid-000-vid-cap) in /sys/class/video4linux"
for node in $(video_nodes_named vivid-000-vid-cap); do
	[ -c "$node" ] || fail "$node: vivid capture node is not a character device"
done

step "vicodec encoder and decoder"
for role in stateful-encoder stateful-decoder; do
	node=$(video_nodes_named "$role")
	[ -n "$node" ] || fail "no vicodec $role node in /sys/class/video4linux"
	[ -c "$node" ] || fail "$node: vicodec $role node is not a character device"
done

step "vim2m scaler"
node=$(video_nodes_named vim2m)
[ -n "$node" ] || fail "no vim2m node in /sys/class/video4linux"
[ -c "$node" ] || fail "$node: vim2m node is not a character device"

step "snd-aloop card"
grep -q 'Loopback' /proc/asound/cards || fail "no Loopback card in /proc/asound/cards: $(cat /proc/asound/cards)"
card=$(sed -n 's/^ *\([0-9][0-9]*\) \[Loopback *\].*/\1/p' /proc/asound/cards)
for dev in "controlC$card" "pcmC${card}D0p" "pcmC${card}D1c"; do
	[ -c "/dev/snd/$dev" ] || fail "no /dev/snd/$dev for the Loopback card ($(echo /dev/snd/*))"
done

step "gpio-sim chip $LAB_GPIOCHIP with lines $LAB_GPIO_LINES"
[ -c "$LAB_GPIOCHIP" ] || fail "$LAB_GPIOCHIP: gpio-sim chip is not a character device"
chip=${LAB_GPIOCHIP##*/}
for name in $LAB_GPIO_LINES; do
	grep -q "gpio-[0-9]* *($name *)" /sys/kernel/debug/gpio ||
		fail "$chip has no line named $name: $(tr '\n' ';' </sys/kernel/debug/gpio)"
done
# A simulated press: pulling line 0 up reads back as 1, down as 0.
line=$LAB_GPIO_DEVICE/$chip/sim_gpio0
for pull in pull-up:1 pull-down:0; do
	echo "${pull%:*}" >"$line/pull" || fail "$line/pull: cannot set ${pull%:*}"
	[ "$(cat "$line/value")" = "${pull#*:}" ] || fail "$line/value: $(cat "$line/value") after ${pull%:*}, want ${pull#*:}"
done

step "uinput"
[ -c /dev/uinput ] || fail "no /dev/uinput character device"

step "bochs display"
[ -c /dev/dri/card0 ] || fail "no /dev/dri/card0"
driver=$(basename "$(readlink /sys/class/drm/card0/device/driver)")
[ "$driver" = bochs-drm ] || fail "/dev/dri/card0 is driven by $driver, want bochs-drm"
grep -q '^connected' /sys/class/drm/card0-*/status || fail "bochs has no connected output: $(cat /sys/class/drm/card0-*/status)"
# Paint bochs's fbdev white; the host part saves a screendump through QMP,
# checks it is white, then lets us go on.
fb=
for dev in /sys/class/graphics/fb[0-9]*; do
	case $(cat "$dev/name") in bochs*) fb=/dev/${dev##*/} ;; esac
done
[ -c "$fb" ] || fail "no fbdev of bochs in /sys/class/graphics"
# Only the visible rows (mode "U:1280x800p-0"): writes beyond them are not
# flushed to the screen reliably.
fbsys=/sys/class/graphics/${fb##*/}
rows=$(sed -n '1s/^[^:]*:[0-9]*x\([0-9]*\).*/\1/p' "$fbsys/modes")
[ -n "$rows" ] || fail "$fbsys/modes: no mode in $(cat "$fbsys/modes")"
head -c $(($(cat "$fbsys/stride") * rows)) /dev/zero | tr '\000' '\377' >"$fb" || fail "$fb: cannot paint it"
sync "$fb"
event display-up
wait_host screendump-taken 30 || fail "the host side failed or did not take the screendump in 30s (see host.log)"

step "network to the host $LAB_HOST"
ip -o addr show dev eth0 | grep -q "inet $LAB_IP" || fail "eth0 does not have $LAB_IP: $(ip -o addr show dev eth0)"
ping -c 1 -W 5 "$LAB_HOST" >/dev/null || fail "no reply from $LAB_HOST to one ping"
