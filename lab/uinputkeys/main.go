// Command lab-uinputkeys is a keyboard for the lab VM, made with the
// kernel's uinput (device/gpio.VirtualKeyboard): it has the keys named on
// its command line, says "ready" once its event node is there, then presses
// each key named on a line of its standard input, until the input ends. The
// keys scenario drives callboxd's evdev controls with it. It builds static
// (CGO_ENABLED=0).
//
// Usage: lab-uinputkeys [-name NAME] KEY...   (KEY_F1, KEY_VOLUMEUP, BTN_0)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/callbox/callbox/device/gpio"
)

func main() {
	name := flag.String("name", "lab keys", "the keyboard's name, as evdev readers see it")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: lab-uinputkeys [-name NAME] KEY...  then one key name a line on standard input")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*name, flag.Args(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lab-uinputkeys:", err)
		os.Exit(1)
	}
}

func run(name string, keyNames []string, commands io.Reader, out io.Writer) error {
	codes := map[string]uint16{}
	for _, k := range keyNames {
		code, ok := gpio.KeyCode(k)
		if !ok {
			return fmt.Errorf("unknown key name %q: use the kernel's names, such as KEY_F1", k)
		}
		codes[strings.ToUpper(k)] = code
	}
	kb, err := gpio.NewVirtualKeyboard(name, slices.Collect(maps.Values(codes))...)
	if err != nil {
		return err
	}
	defer kb.Close()
	fmt.Fprintf(out, "lab-uinputkeys: ready %q at %s\n", kb.Name(), kb.Path())
	lines := bufio.NewScanner(commands)
	for lines.Scan() {
		k := strings.ToUpper(strings.TrimSpace(lines.Text()))
		if k == "" {
			continue
		}
		code, ok := codes[k]
		if !ok {
			return fmt.Errorf("asked to press %q, which the keyboard was not made with (%s)", k, strings.Join(keyNames, " "))
		}
		if err := kb.Press(code); err != nil {
			return err
		}
		fmt.Fprintf(out, "lab-uinputkeys: pressed %s\n", k)
	}
	return lines.Err()
}
