package daemontest

import (
	"fmt"
	"time"
)

// Poll calls check until it returns nil, every interval, and returns nil;
// when timeout passes first, it returns check's last error, saying how long
// it tried. It is for what nothing announces: a file another process
// rewrites, a socket another goroutine opens, a screen in another process.
// What can be waited on (a channel, Log.Wait, a viewer's pictures) is
// waited on instead.
func Poll(timeout, interval time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", timeout, err)
		}
		time.Sleep(interval)
	}
}
