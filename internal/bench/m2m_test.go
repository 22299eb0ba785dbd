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
