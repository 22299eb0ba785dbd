// Package httpserve runs an http.Server for as long as a context: the
// setup page, the local API and the captive portal each serve this way. It
// owns the goroutine that serves and returns only after it has ended.
package httpserve

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Run calls serve (srv.Serve or srv.ServeTLS on a listener) until ctx
// ends, then shuts srv down, giving requests in flight up to grace to
// finish before their connections are closed (0: closed at once). It
// returns once serve has returned: nil after ctx ended, else serve's error.
func Run(ctx context.Context, srv *http.Server, grace time.Duration, serve func() error) error {
	served := make(chan error, 1)
	go func() { served <- serve() }()
	select {
	case err := <-served:
		return err // it stopped by itself: the listener failed
	case <-ctx.Done():
	}
	if grace > 0 {
		// ctx has ended; the grace period is a new deadline on its values.
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
		defer cancel()
		if srv.Shutdown(shut) != nil {
			srv.Close() // what did not finish in time
		}
	} else {
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
