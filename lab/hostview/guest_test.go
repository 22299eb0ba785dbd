package main

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// guestEnd plays qemu's end of the control channel (run.sh's ctl.sock):
// it accepts the host's connection, reads one line from it and writes
// lines back, as a scenario's tell_host does on hvc0.
func guestEnd(t *testing.T, answer ...string) *ctlConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ctl.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
			return
		}
		for _, line := range answer {
			if _, err := conn.Write([]byte(line)); err != nil {
				return
			}
		}
		time.Sleep(time.Second) // open while the host reads
	}()
	c := &ctlConn{path: path}
	t.Cleanup(c.close)
	return c
}

func TestReadAnswerTakesTheNamedLine(t *testing.T) {
	// A serial line may end lines with \r\n; other lines come first.
	c := guestEnd(t, "something else\r\n", "invite-link https://10.99.1.2/guest/#t=a b\r\n")
	if err := c.writeLine("invite"); err != nil {
		t.Fatal(err)
	}
	got, err := c.readAnswer("invite-link", 5*time.Second)
	if err != nil || got != "https://10.99.1.2/guest/#t=a b" {
		t.Fatalf("readAnswer = %q, %v; want the link after the name", got, err)
	}
}

func TestReadAnswerGivesUpNamingIt(t *testing.T) {
	c := guestEnd(t, "invite-linkX\n")
	if err := c.writeLine("invite"); err != nil {
		t.Fatal(err)
	}
	_, err := c.readAnswer("invite-link", 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), `did not answer "invite-link" within`) {
		t.Fatalf("got %v, want an error saying the guest did not answer invite-link in time", err)
	}
	if _, err := (&ctlConn{path: "ctl.sock"}).readAnswer("invite-link", time.Second); err == nil {
		t.Error("readAnswer before anything was told: no error")
	}
}
