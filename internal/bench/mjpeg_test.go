package main

import "testing"

// BenchmarkMJPEGFigures prints mjpeg_decode_ms_720p,
// mjpeg_encode_overhead_ratio and send_1080p_cpu_ratio alone, without the
// lab or a call: go test -tags dynamic -run '^$' -bench MJPEGFigures
// -benchtime 1x ./internal/bench
func BenchmarkMJPEGFigures(b *testing.B) {
	for b.Loop() {
		if err := mjpegFigures(); err != nil {
			b.Fatal(err)
		}
	}
}
