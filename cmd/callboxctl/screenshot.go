package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/callbox/callbox/provisioning"
)

// knownSockets are where callboxd serves its local API as the Debian
// package's service (-data /var/lib/callbox) and in the image (its
// drop-in: -data /data/callbox).
var knownSockets = []string{"/var/lib/callbox/control.sock", "/data/callbox/control.sock"}

// defaultSocket is the first of knownSockets that is there, else the
// package's, which the error then names.
func defaultSocket() string {
	for _, s := range knownSockets {
		if _, err := os.Stat(s); err == nil {
			return s
		}
	}
	return knownSockets[0]
}

// screenshot saves what the box's screen shows now as a PNG file, asking
// the running callboxd through its local API.
func screenshot(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("screenshot", flag.ContinueOnError)
	socket := fs.String("socket", defaultSocket(), "callboxd's local API socket (callboxd -control)")
	file := fs.String("o", "screen.png", "the PNG file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("screenshot: unexpected argument %q", fs.Arg(0))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := provisioning.LocalClient{Socket: *socket}.Screenshot(ctx)
	if err != nil {
		return err
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		return errors.New("screenshot: callboxd's answer is not a PNG picture")
	}
	tmp, err := os.CreateTemp(filepath.Dir(*file), ".screenshot-*.png")
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(png); err != nil {
		tmp.Close()
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), *file); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	fmt.Fprintf(out, "saved the screen to %s\n", *file)
	return nil
}
