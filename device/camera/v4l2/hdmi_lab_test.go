package v4l2

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/device/camera"
	go4vl "github.com/vladimirvivien/go4vl/v4l2"
	"golang.org/x/sys/unix"
)

// TestLabHDMI drives vivid's HDMI input (vivid's fourth input by default)
// as an HDMI cable would: its DV timings say the signal's size, and its
// controls pull the cable (no signal) and change the laptop's resolution
// (a selected timing), each a source-change event. The lab's content
// scenario runs it; elsewhere, without vivid, it skips.
func TestLabHDMI(t *testing.T) {
	info, err := findCamera("/dev", "vivid")
	if err != nil {
		t.Skipf("no vivid: %v", err)
	}
	in, err := OpenHDMI(HDMIOptions{Device: info.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if !in.dv {
		t.Fatalf("%s: no input with DV timings found (vivid's HDMI input)", info.Path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	sig, err := in.Signal()
	if err != nil {
		t.Fatalf("vivid's HDMI input at its start: %v", err)
	}
	t.Logf("signal at start: %dx%d@%d", sig.Width, sig.Height, sig.FPS)
	readAt(ctx, t, in, sig)

	changed := func(what string) {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := in.WaitChange(wait); err != nil {
			t.Fatalf("%s: no source-change event: %v", what, err)
		}
	}

	// The cable pulled.
	setSignal(t, in.fd, "none")
	changed("no signal")
	if _, err := in.Signal(); !errors.Is(err, camera.ErrNoSignal) {
		t.Fatalf("after the cable was pulled: %v, want ErrNoSignal", err)
	} else {
		t.Logf("cable pulled: %v", err)
	}

	// Plugged in again at another size.
	setSignal(t, in.fd, "1920x1080p60")
	changed("a new timing")
	sig, err = in.Signal()
	if err != nil || sig.Width != 1920 || sig.Height != 1080 {
		t.Fatalf("after a 1080p60 signal came: %+v, %v; want 1920x1080", sig, err)
	}
	t.Logf("new signal: %dx%d@%d", sig.Width, sig.Height, sig.FPS)
	readAt(ctx, t, in, sig)
}

// readAt streams the input at sig and checks a picture of its size comes.
func readAt(ctx context.Context, t *testing.T, in *HDMIInput, sig camera.Format) {
	t.Helper()
	src, err := in.Open(ctx, sig)
	if err != nil {
		t.Fatalf("open at %dx%d: %v", sig.Width, sig.Height, err)
	}
	defer src.Close()
	f, err := src.ReadFrame(ctx)
	if err != nil {
		t.Fatalf("read at %dx%d: %v", sig.Width, sig.Height, err)
	}
	if f.Format.Width != sig.Width || f.Format.Height != sig.Height {
		t.Fatalf("a picture of %dx%d from a %dx%d signal", f.Format.Width, f.Format.Height, sig.Width, sig.Height)
	}
	t.Logf("a %s picture from the HDMI input", f.Format)
}

// TestLabHDMISignal sets the signal on vivid's HDMI input to
// $LAB_HDMI_SIGNAL, "none" (the cable pulled) or one of vivid's DV
// timings ("1920x1080p60"), while another program (callboxd) streams it:
// the lab's share scenario plays the laptop with it. Without the variable
// it skips.
func TestLabHDMISignal(t *testing.T) {
	signal := os.Getenv("LAB_HDMI_SIGNAL")
	if signal == "" {
		t.Skip("LAB_HDMI_SIGNAL is not set")
	}
	info, err := findCamera("/dev", "vivid")
	if err != nil {
		t.Fatalf("no vivid: %v", err)
	}
	// The node only, not OpenHDMI: the input is streaming, and its
	// controls are the device's, whoever opened it.
	fd, err := unix.Open(info.Path, unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	setSignal(t, fd, signal)
	t.Logf("%s: HDMI signal %s", info.Path, signal)
}

// setSignal sets vivid's HDMI signal: "none", or a DV timing by vivid's
// name for it.
func setSignal(t *testing.T, fd int, signal string) {
	t.Helper()
	mode := vividControl(t, fd, "DV Timings Signal Mode")
	if signal == "none" {
		setMenu(t, fd, mode, "No Signal")
		return
	}
	setMenu(t, fd, vividControl(t, fd, "DV Timings"), signal)
	setMenu(t, fd, mode, "Selected DV Timings")
}

// setMenu sets the menu control c to its item.
func setMenu(t *testing.T, fd int, c go4vl.Control, item string) {
	t.Helper()
	items, err := c.GetMenuItems()
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	var names []string
	for _, it := range items {
		names = append(names, it.Name)
		if it.Name == item {
			if err := go4vl.SetControlValue(uintptr(fd), c.ID, go4vl.CtrlValue(it.Index)); err != nil {
				t.Fatalf("set %s to %s: %v", c.Name, item, err)
			}
			return
		}
	}
	t.Fatalf("%s has no %q: %v", c.Name, item, names)
}

func vividControl(t *testing.T, fd int, name string) go4vl.Control {
	t.Helper()
	all, err := go4vl.QueryAllControls(uintptr(fd))
	if err != nil {
		t.Fatalf("vivid's controls: %v", err)
	}
	var names []string
	for _, c := range all {
		if c.Name == name {
			return c
		}
		names = append(names, c.Name)
	}
	t.Fatalf("vivid has no control %q: %s", name, strings.Join(names, ", "))
	return go4vl.Control{}
}
