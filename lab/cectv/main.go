// Command lab-cectv is a TV on the lab VM's HDMI-CEC bus: it claims the
// TV's logical address on a CEC adapter (vivid's HDMI input, physical
// address 0.0.0.0) through device/cec, says "ready", prints every message
// it receives as "received HEX" (the bytes on the bus, "40 04" for Image
// View On from a player), and sends the remote key named on each line of
// its standard input ("select", "back", or a UI command in hex) to the
// player at -to, pressed and released, until the input ends. The cec
// scenario plays the family TV with it. It builds static (CGO_ENABLED=0).
//
// Usage: lab-cectv [-device /dev/cec0] [-to 4]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/callbox/callbox/device/cec"
)

func main() {
	device := flag.String("device", "/dev/cec0", "the TV's CEC adapter")
	to := flag.Uint("to", 4, "the logical address of the player the keys go to")
	flag.Parse()
	if err := run(*device, cec.LogicalAddress(*to), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lab-cectv:", err)
		os.Exit(1)
	}
}

var keyNames = map[string]cec.Key{"select": cec.KeySelect, "back": cec.KeyBack, "mute": cec.KeyMute, "green": cec.KeyGreen, "red": cec.KeyRed}

func run(device string, to cec.LogicalAddress, commands io.Reader, out io.Writer) error {
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, "lab-cectv: "+format+"\n", args...)
	}
	tv, err := cec.OpenAdapter(device, cec.AdapterOptions{Name: "Lab TV", TV: true, Events: func(s string) { say("event: %s", s) }})
	if err != nil {
		return err
	}
	defer tv.Close()
	phys, _ := tv.PhysicalAddress()
	say("ready at %s, logical address %d, physical address %v", device, tv.LogicalAddress(), phys)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		for {
			m, err := tv.Receive(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				say("receive: %v", err)
				continue
			}
			say("received % x", m.Bytes())
		}
	})

	lines := bufio.NewScanner(commands)
	for lines.Scan() {
		name := strings.ToLower(strings.TrimSpace(lines.Text()))
		if name == "" {
			continue
		}
		key, ok := keyNames[name]
		if !ok {
			n, err := strconv.ParseUint(strings.TrimPrefix(name, "0x"), 16, 8)
			if err != nil {
				return fmt.Errorf("asked to press %q: not a key name (select, back, mute, green, red) nor a UI command in hex", name)
			}
			key = cec.Key(n)
		}
		if err := tv.Transmit(cec.Message{To: to, Opcode: cec.OpUserControlPressed, Operands: []byte{byte(key)}}); err != nil {
			return err
		}
		if err := tv.Transmit(cec.Message{To: to, Opcode: cec.OpUserControlReleased}); err != nil {
			return err
		}
		say("pressed %s", name)
	}
	return lines.Err()
}
