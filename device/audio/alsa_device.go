package audio

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// pcmLocation is a resolved ALSA hardware PCM.
type pcmLocation struct {
	card, device int
	subdevice    int    // -1: the first free one
	path         string // /dev/snd/pcmC1D0c
	controlPath  string // /dev/snd/controlC1, for choosing a subdevice
}

// resolver turns ALSA device names into device nodes. Tests point it at
// a temporary directory.
type resolver struct {
	devDir  string // /dev/snd
	procDir string // /proc/asound: card names
}

var defaultResolver = resolver{devDir: "/dev/snd", procDir: "/proc/asound"}

// resolve reads an ALSA hardware device name and finds its node, so that
// a name that cannot work fails here with a message saying why.
func (r resolver) resolve(name string, dir direction) (pcmLocation, error) {
	name = strings.TrimSpace(name)
	if name == "" || name == "default" || name == "sysdefault" {
		return r.first(dir)
	}
	args := name
	switch {
	case strings.HasPrefix(name, "hw:"):
		args = strings.TrimPrefix(name, "hw:")
	case strings.HasPrefix(name, "plughw:"):
		args = strings.TrimPrefix(name, "plughw:")
	case strings.Contains(name, ":"):
		return pcmLocation{}, errorOf(ErrNotFound, "only hardware devices (hw:CARD,DEV or a card name) are supported, not ALSA plugins")
	}
	card, device, subdevice := "", "0", "-1"
	for i, part := range strings.Split(args, ",") {
		key, value, named := strings.Cut(part, "=")
		if !named {
			key, value = [...]string{"CARD", "DEV", "SUBDEV"}[min(i, 2)], part
			if i > 2 {
				return pcmLocation{}, errorOf(ErrNotFound, "too many fields in device name")
			}
		}
		switch strings.ToUpper(key) {
		case "CARD":
			card = value
		case "DEV":
			device = value
		case "SUBDEV":
			subdevice = value
		default:
			return pcmLocation{}, errorOf(ErrNotFound, "unknown field %q in device name", key)
		}
	}
	cardNum, err := r.cardNumber(card)
	if err != nil {
		return pcmLocation{}, err
	}
	devNum, err := strconv.Atoi(device)
	if err != nil || devNum < 0 {
		return pcmLocation{}, errorOf(ErrNotFound, "device %q is not a number", device)
	}
	subNum, err := strconv.Atoi(subdevice)
	if err != nil || subNum < -1 {
		return pcmLocation{}, errorOf(ErrNotFound, "subdevice %q is not a number", subdevice)
	}
	return r.locate(cardNum, devNum, subNum, dir)
}

func (r resolver) locate(card, device, subdevice int, dir direction) (pcmLocation, error) {
	loc := pcmLocation{
		card: card, device: device, subdevice: subdevice,
		path:        filepath.Join(r.devDir, fmt.Sprintf("pcmC%dD%d%c", card, device, dir.suffix())),
		controlPath: filepath.Join(r.devDir, fmt.Sprintf("controlC%d", card)),
	}
	if _, err := os.Stat(loc.controlPath); err != nil {
		return pcmLocation{}, errorOf(ErrNotFound, "no sound card %d (%s)", card, r.cardList())
	}
	if _, err := os.Stat(loc.path); err != nil {
		return pcmLocation{}, errorOf(ErrNotFound, "card %d has no %s device %d (%s has %s)",
			card, dir, device, r.cardName(card), r.pcmList(card, dir))
	}
	return loc, nil
}

// first finds the lowest-numbered card and device of the direction.
func (r resolver) first(dir direction) (pcmLocation, error) {
	nodes := r.pcmNodes(-1, dir)
	if len(nodes) == 0 {
		return pcmLocation{}, errorOf(ErrNotFound, "no sound card with a %s device in %s", dir, r.devDir)
	}
	return r.locate(nodes[0][0], nodes[0][1], -1, dir)
}

func (d direction) suffix() byte {
	if d == directionPlayback {
		return 'p'
	}
	return 'c'
}

// pcmNodes lists [card, device] pairs with a node of the direction,
// sorted; card -1 means any card.
func (r resolver) pcmNodes(card int, dir direction) [][2]int {
	entries, _ := os.ReadDir(r.devDir)
	var nodes [][2]int
	for _, e := range entries {
		var c, d int
		var s byte
		if n, _ := fmt.Sscanf(e.Name(), "pcmC%dD%d%c", &c, &d, &s); n != 3 || s != dir.suffix() {
			continue
		}
		if card == -1 || c == card {
			nodes = append(nodes, [2]int{c, d})
		}
	}
	sort.Slice(nodes, func(i, j int) bool {
		if nodes[i][0] != nodes[j][0] {
			return nodes[i][0] < nodes[j][0]
		}
		return nodes[i][1] < nodes[j][1]
	})
	return nodes
}

func (r resolver) pcmList(card int, dir direction) string {
	nodes := r.pcmNodes(card, dir)
	if len(nodes) == 0 {
		return "no " + dir.String() + " devices"
	}
	devs := make([]string, len(nodes))
	for i, n := range nodes {
		devs[i] = strconv.Itoa(n[1])
	}
	return dir.String() + " devices " + strings.Join(devs, ",")
}

// cardNumber reads a card given by number or by id ("Loopback").
func (r resolver) cardNumber(card string) (int, error) {
	if card == "" {
		return 0, errorOf(ErrNotFound, "no card in device name")
	}
	if n, err := strconv.Atoi(card); err == nil {
		if n < 0 {
			return 0, errorOf(ErrNotFound, "card %d: card numbers start at 0", n)
		}
		return n, nil
	}
	for n, id := range r.cards() {
		if id == card {
			return n, nil
		}
	}
	return 0, errorOf(ErrNotFound, "no sound card named %q (%s)", card, r.cardList())
}

// cards maps card numbers to their ids, from /proc/asound/cardN/id.
func (r resolver) cards() map[int]string {
	matches, _ := filepath.Glob(filepath.Join(r.procDir, "card*", "id"))
	cards := map[int]string{}
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(m)), "card"))
		if err != nil {
			continue
		}
		id, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		cards[n] = strings.TrimSpace(string(id))
	}
	return cards
}

func (r resolver) cardName(card int) string {
	if id, ok := r.cards()[card]; ok {
		return fmt.Sprintf("card %d %q", card, id)
	}
	return fmt.Sprintf("card %d", card)
}

// cardList says which cards there are, for error messages.
func (r resolver) cardList() string {
	cards := r.cards()
	if len(cards) == 0 {
		return "this system has no sound cards"
	}
	nums := make([]int, 0, len(cards))
	for n := range cards {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	names := make([]string, len(nums))
	for i, n := range nums {
		names[i] = fmt.Sprintf("%d %q", n, cards[n])
	}
	return "cards: " + strings.Join(names, ", ")
}

// DeviceInfo is one ALSA hardware PCM: what OpenCapture and OpenPlayback
// take as a device name, and what a person reads.
type DeviceInfo struct {
	ID   string // hw:CARD,DEV with numbers: "hw:1,0"
	Card string // the card's id: "PCH", "Loopback"
	Name string // the PCM's name from the driver: "ALC892 Analog"; may be empty
	// Capture and Playback say which ways the PCM goes.
	Capture, Playback bool
}

// Label is the device as a person reads it: "ALC892 Analog (hw:0,0)".
func (d DeviceInfo) Label() string {
	name := d.Name
	if name == "" {
		name = d.Card
	}
	if name == "" {
		return d.ID
	}
	return name + " (" + d.ID + ")"
}

// ListDevices lists the sound cards' PCMs that have a device node in
// /dev/snd, by card and device number; an empty list where there is no
// sound card.
func ListDevices() []DeviceInfo { return defaultResolver.list() }

func (r resolver) list() []DeviceInfo {
	cards := r.cards()
	byPCM := map[[2]int]*DeviceInfo{}
	var order [][2]int
	for _, dir := range []direction{directionCapture, directionPlayback} {
		for _, n := range r.pcmNodes(-1, dir) {
			d := byPCM[n]
			if d == nil {
				d = &DeviceInfo{ID: fmt.Sprintf("hw:%d,%d", n[0], n[1]), Card: cards[n[0]], Name: r.pcmName(n[0], n[1], dir)}
				byPCM[n] = d
				order = append(order, n)
			}
			if dir == directionCapture {
				d.Capture = true
			} else {
				d.Playback = true
			}
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i][0] != order[j][0] {
			return order[i][0] < order[j][0]
		}
		return order[i][1] < order[j][1]
	})
	out := make([]DeviceInfo, 0, len(order))
	for _, n := range order {
		out = append(out, *byPCM[n])
	}
	return out
}

// pcmName is the driver's name of a PCM, from the "name:" line of
// /proc/asound/cardN/pcmD{c,p}/info; "" when there is none.
func (r resolver) pcmName(card, device int, dir direction) string {
	info, err := os.ReadFile(filepath.Join(r.procDir, fmt.Sprintf("card%d", card), fmt.Sprintf("pcm%d%c", device, dir.suffix()), "info"))
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(info), "\n") {
		if name, ok := strings.CutPrefix(line, "name:"); ok {
			return strings.TrimSpace(name)
		}
	}
	return ""
}
