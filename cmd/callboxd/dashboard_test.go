package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbox/callbox/provisioning"
)

// exportedMetrics are the names of every metric callboxd serves, from its
// collectors' descriptions.
func exportedMetrics() map[string]bool {
	names := map[string]bool{}
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for _, c := range metricsCollectors(&localBox{}) {
		ch := make(chan *prometheus.Desc)
		go func() { c.Describe(ch); close(ch) }() // ends when Describe has sent all
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				names[m[1]] = true
			}
		}
	}
	return names
}

// PromQL, as far as a query's metric names go: strings, label matchers and
// "by (...)" hold none; a name followed by "(" is a function.
var (
	promStrings   = regexp.MustCompile(`"(\\.|[^"\\])*"`)
	promMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promGroupings = regexp.MustCompile(`\b(by|without|on|ignoring)\s*\([^)]*\)`)
	promNames     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promRanges    = regexp.MustCompile(`\[[^\]]*\]`)
)

func metricNames(query string) []string {
	q := promStrings.ReplaceAllString(query, `""`)
	q = promMatchers.ReplaceAllString(q, "")
	q = promGroupings.ReplaceAllString(q, "")
	q = promRanges.ReplaceAllString(q, "")
	var names []string
	for _, m := range promNames.FindAllString(q, -1) {
		if !strings.HasSuffix(m, "(") {
			names = append(names, m)
		}
	}
	return names
}

// TestDashboardNamesExportedMetrics: every query of the Grafana dashboard
// (its panels' and its variables') names metrics callboxd exports, and
// only those: a renamed metric or a typo would leave a panel empty.
func TestDashboardNamesExportedMetrics(t *testing.T) {
	exported := exportedMetrics()
	data, err := os.ReadFile("grafana/callbox-fleet.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON Grafana reads: %v", err)
	}
	queries := map[string]string{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			queries[target.Expr] = "panel " + p.Title
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type == "query" {
			// label_values(METRIC{...}, label): the metric is the query
			query := strings.TrimSuffix(strings.TrimPrefix(v.Query, "label_values("), ")")
			queries[query[:max(0, strings.LastIndex(query, ","))]] = "variable " + v.Name
		}
	}
	for query, where := range queries {
		names := metricNames(query)
		if len(names) == 0 {
			t.Errorf("%s: %q names no metric", where, query)
		}
		for _, name := range names {
			if !exported[name] && !exported[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")] {
				t.Errorf("%s: %q names %s, which callboxd does not export", where, query, name)
			}
		}
	}
	if len(queries) < 15 {
		t.Errorf("the dashboard has %d queries; is it read right?", len(queries))
	}
}

// TestMachineMetrics: the machine's numbers as a Raspberry Pi's /proc and
// firmware give them, and the state of a box waiting for setup.
func TestMachineMetrics(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"loadavg": "0.52 0.40 0.31 1/123 4567\n",
		"meminfo": "MemTotal:        3884196 kB\nMemFree:          123456 kB\nMemAvailable:    2000000 kB\n",
		// Under-voltage and throttled now, and frequency capping since boot.
		"get_throttled": "0x20005\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := newBoxCollector(&localBox{current: func() *daemon { return nil },
		status: func() provisioning.CallStatus { return provisioning.CallStatus{State: "setup needed"} }})
	c.proc, c.thermal, c.throttled = dir, dir, filepath.Join(dir, "get_throttled")
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetValue()
			}
			got[key] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"callbox_call_state,setup needed": 1, "callbox_call_state,in call": 0, "callbox_call_duration_seconds": 0,
		"callbox_load_average,1": 0.52, "callbox_load_average,15": 0.31,
		"callbox_memory_available_bytes": 2000000 * 1024, "callbox_memory_total_bytes": 3884196 * 1024,
		"callbox_throttled,under-voltage": 1, "callbox_throttled,frequency-capped": 0, "callbox_throttled,throttled": 1,
		"callbox_throttled,soft-temperature-limit": 0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
}
