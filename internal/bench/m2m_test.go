package main

import "testing"

// BenchmarkSimulcastCPURatio measures simulcast_sw_cpu_ratio alone, without
// the lab or a call: go test -tags dynamic -run '^$' -bench SimulcastCPURatio
// -benchtime 1x ./internal/bench
func BenchmarkSimulcastCPURatio(b *testing.B) {
	for b.Loop() {
		ratio, err := simulcastCPURatio()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(ratio, "ratio")
	}
}

// BenchmarkContentFigures prints content_encode_cpu_ratio alone: go test
// -tags dynamic -run '^$' -bench ContentFigures -benchtime 1x ./internal/bench
func BenchmarkContentFigures(b *testing.B) {
	for b.Loop() {
		if err := contentFigures(); err != nil {
			b.Fatal(err)
		}
	}
}
