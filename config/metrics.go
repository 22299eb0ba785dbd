package config

import (
	"net"
	"strconv"
)

// Metrics are the box's Prometheus metrics (callboxd's metrics.go): off
// unless Listen is set, then on a port of their own, for a scraper that
// sends Token.
type Metrics struct {
	// Listen is where the metrics are served, "HOST:PORT" or ":PORT"
	// (all addresses); "" is off.
	Listen string `toml:"listen"`
	// Token is the bearer token a scraper must send
	// (Authorization: Bearer TOKEN). A secret: never logged, never shown.
	Token string `toml:"token"`
}

// MinMetricsTokenLength is the shortest metrics.token taken.
const MinMetricsTokenLength = 16

func (m Metrics) validate(bad func(field, format string, args ...any)) {
	if m.Listen == "" {
		return
	}
	host, port, err := net.SplitHostPort(m.Listen)
	n, perr := strconv.Atoi(port)
	switch {
	case err != nil || perr != nil || n < 1 || n > 65535:
		bad("metrics.listen", "%q is not HOST:PORT or :PORT (e.g. :9464)", m.Listen)
	case host != "" && net.ParseIP(host) == nil:
		bad("metrics.listen", "%q: the host must be an IP address of the box, or empty for all of them", m.Listen)
	}
	if len(m.Token) < MinMetricsTokenLength {
		// Never the token itself in the message.
		bad("metrics.token", "is %d characters long: the metrics need a bearer token of at least %d characters (e.g. from openssl rand -hex 16)", len(m.Token), MinMetricsTokenLength)
	}
}
