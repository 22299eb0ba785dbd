package v4l2m2m

import (
	"log/slog"
	"testing"
)

// For the tests in package v4l2m2m_test (simulcast_lab_test.go): they
// drive this package through pipeline, which imports it, so they cannot
// be inside it.

// LabNodes are the lab's FWHT encoder (vicodec) and raw-to-raw device
// (vim2m, "" if none); outside the lab the test skips (labDevices).
func LabNodes(t *testing.T) (encoder, scaler string) {
	t.Helper()
	n := labDevices(t)
	return n.encoder, n.scaler
}

// NewLabEncoder opens the FWHT encoder node as newLabEncoder does.
func NewLabEncoder(t *testing.T, node string, opts EncoderOptions) *Encoder {
	t.Helper()
	return newLabEncoder(t, labNodes{encoder: node}, opts)
}

// LabLogger logs to t.
func LabLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return testLogger(t)
}
