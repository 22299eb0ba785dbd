package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
)

// waitEvent waits until the guest prints "LAB-EVENT: name" on its console
// (guest.sh's `event name`), as lib.sh's lab_wait_event does. It gives up
// at once when the guest prints its verdict instead.
func (l *lab) waitEvent(ctx context.Context, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		found, verdict, err := scanConsole(l.console, "LAB-EVENT: "+name)
		switch {
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return err
		case found:
			l.lastEventSeen = time.Now()
			l.log.Info("the guest says", "event", name)
			return nil
		case verdict != "":
			return fmt.Errorf("waiting for the guest's event %q: %w (%s)", name, errGuestEnded, verdict)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the guest did not say %q within %s (see console.log)", name, timeout)
		case <-tick.C:
		}
	}
}

// scanConsole reports whether the console log holds the line want, and the
// guest's LAB-RESULT line if it has one.
func scanConsole(path, want string) (found bool, verdict string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == want {
			found = true
		}
		if strings.HasPrefix(line, "LAB-RESULT: ") {
			verdict = line
		}
	}
	return found, verdict, nil
}

// ctlConn is the host's end of the guest's control channel (run.sh's
// ctl.sock, the guest's ttyS1 or hvc0). One connection serves the whole
// run: qemu takes one client at a time. The guest answers on it too
// (guest.sh's tell_host), for what must not go to the console log.
type ctlConn struct {
	path string
	mu   sync.Mutex
	conn net.Conn      // guarded by mu
	in   *bufio.Reader // conn's lines from the guest; guarded by mu
}

func (c *ctlConn) writeLine(line string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		// qemu makes the socket as it starts, which may be just after us.
		err := daemontest.Poll(30*time.Second, 100*time.Millisecond, func() (err error) {
			c.conn, err = net.Dial("unix", c.path)
			return err
		})
		if err != nil {
			return fmt.Errorf("control channel %s: %w", c.path, err)
		}
		c.in = bufio.NewReader(c.conn)
	}
	if _, err := c.conn.Write([]byte(line + "\n")); err != nil {
		return fmt.Errorf("control channel %s: %w", c.path, err)
	}
	return nil
}

// readAnswer waits for the guest's line "name VALUE" (guest.sh's
// tell_host name VALUE) and returns VALUE; other lines are skipped. The
// channel must be open: the host speaks first.
func (c *ctlConn) readAnswer(name string, timeout time.Duration) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return "", fmt.Errorf("control channel %s: waiting for %q before telling the guest anything", c.path, name)
	}
	if err := c.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	defer func() { _ = c.conn.SetReadDeadline(time.Time{}) }() // a broken channel shows at the next read
	for {
		line, err := c.in.ReadString('\n')
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return "", fmt.Errorf("the guest did not answer %q within %s (see console.log)", name, timeout)
			}
			return "", fmt.Errorf("control channel %s, waiting for %q: %w", c.path, name, err)
		}
		if value, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), name+" "); ok {
			return value, nil
		}
	}
}

func (c *ctlConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		// A moment for qemu to pass the last line on before the hang-up.
		time.Sleep(200 * time.Millisecond)
		c.conn.Close()
		c.conn = nil
	}
}
