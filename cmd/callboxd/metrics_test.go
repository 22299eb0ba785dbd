package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/provisioning"
)

const metricsToken = "metrics-token-do-not-show-31337"

// freePort is a TCP port nothing listens on at addr now.
func freePort(t *testing.T, addr string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestMetricsThroughPrometheus: a real Prometheus (Debian's) scrapes the
// real callboxd in a call; its HTTP API shows the box sending pictures
// (bitrate and frame rate above 0), receiving another's at the size they
// send with no packet lost, and callbox_call_state in the call, then idle
// after a hang-up. Without the token the box answers 401.
func TestMetricsThroughPrometheus(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("Debian's prometheus is not installed (scripts/deps.sh installs it)")
	}
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
	defer cancel()
	startViewer(t, srv, "metrics")
	alice := senders[0] // sends senderW x senderH (receive_test.go)
	aliceCtx, aliceLeaves := context.WithCancel(ctx)
	aliceLeft := startSender(t, aliceCtx, srv, "metrics", alice)
	t.Cleanup(func() { aliceLeaves(); <-aliceLeft })

	dir := t.TempDir()
	metricsAddr := net.JoinHostPort(netns.Addr, strconv.Itoa(freePort(t, netns.Addr)))
	cfgPath := filepath.Join(dir, "callbox.toml")
	cfgText := fmt.Sprintf("[call]\nurl = %q\nroom = \"metrics\"\nidentity = \"box\"\napi_key = %q\napi_secret = %q\nencryption = \"none\"\n"+
		"[video]\nwidth = 320\nheight = 180\n[display]\noutput = \"none\"\n[metrics]\nlisten = %q\ntoken = %q\n",
		srv.URL, srv.APIKey, srv.APISecret, metricsAddr, metricsToken)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "control.sock")
	d := startDaemon(t, "-config", cfgPath, "-control", socket)
	d.waitLog(t, "in the call", 20*time.Second)

	// Without the token, or with another: 401, and no metrics.
	for _, auth := range []string{"", "Bearer not-the-token-at-all", metricsToken} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+metricsAddr+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "callbox_") {
			t.Errorf("metrics with Authorization %q: %d, want 401 and no metrics:\n%.200s", auth, res.StatusCode, body)
		}
	}

	prom := startPrometheus(t, promBin, metricsAddr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the box's metrics:\n%s", scrape(t, metricsAddr))
		}
	})
	prom.wait(t, ctx, `callbox_call_state{state="in call"} == 1`)
	prom.wait(t, ctx, `rate(callbox_sent_bytes_total{kind="video"}[4s]) * 8 > 0`)
	prom.wait(t, ctx, `rate(callbox_video_frames_sent_total[4s]) > 0`)
	prom.wait(t, ctx, `callbox_participants == 2`) // the viewer and alice
	// What the box receives: alice's picture at the size she sends, the
	// largest and the smallest (the viewer sends none).
	for _, picture := range []string{"largest", "smallest"} {
		prom.wait(t, ctx, fmt.Sprintf(`callbox_video_received_pixels{picture=%q,dimension="width"} == %d`, picture, senderW))
		prom.wait(t, ctx, fmt.Sprintf(`callbox_video_received_pixels{picture=%q,dimension="height"} == %d`, picture, senderH))
	}
	// ...every packet of it on the clean link, with a jitter measured
	// but well under the mixer's buffer.
	prom.wait(t, ctx, `callbox_received_packets_total{kind="video"} > 200`)
	prom.wait(t, ctx, `callbox_received_packets_total{kind="audio"} > 100`)
	prom.wait(t, ctx, `sum(callbox_received_packets_lost_total) == 0`)
	prom.wait(t, ctx, `callbox_received_jitter_seconds{kind="audio"} > 0 and callbox_received_jitter_seconds{kind="audio"} < 0.05`)
	// On one machine's virtual cable: well under 100 ms, but measured.
	prom.wait(t, ctx, `callbox_round_trip_seconds > 0 and callbox_round_trip_seconds < 0.1`)

	if _, err := (provisioning.LocalClient{Socket: socket}).Act(ctx, "hang_up"); err != nil {
		t.Fatal(err)
	}
	prom.wait(t, ctx, `callbox_call_state{state="idle"} == 1`)
	prom.wait(t, ctx, `callbox_call_state{state="in call"} == 0`)
	d.stop(t)
	if strings.Contains(d.output(), metricsToken) {
		t.Errorf("callboxd's log holds the metrics token")
	}
}

// scrape is what the box's metrics say now, as Prometheus reads them.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return string(body)
}

// promServer is a Prometheus server the test started.
type promServer struct{ api string }

// startPrometheus starts Debian's prometheus, scraping target every second
// with the box's token, on 127.0.0.1 of the test's namespace, until the
// test ends.
func startPrometheus(t *testing.T, bin, target string) promServer {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: callbox
    authorization:
      credentials_file: %s
    static_configs:
      - targets: [%q]
`, filepath.Join(dir, "token"), target)
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(metricsToken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "127.0.0.1")))
	log := daemontest.Start(t, "prometheus", exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn"))
	p := promServer{api: "http://" + addr}
	if err := daemontest.Poll(20*time.Second, 100*time.Millisecond, func() error {
		res, err := http.Get(p.api + "/-/ready")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("prometheus is not ready: %s", res.Status)
		}
		return nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	return p
}

// wait asks Prometheus's HTTP API for query until it answers with a
// series (a comparison that holds).
func (p promServer) wait(t *testing.T, ctx context.Context, query string) {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		res, err := http.Get(p.api + "/api/v1/query?query=" + url.QueryEscape(query))
		if err == nil {
			var answer struct {
				Status string `json:"status"`
				Data   struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			last = string(body)
			if json.Unmarshal(body, &answer) == nil && answer.Status == "success" && len(answer.Data.Result) > 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	t.Fatalf("Prometheus never answered %s with a series; last: %s", query, last)
}

// TestReceivedSizes: the largest and the smallest of the others'
// pictures, of those here; frames that say no size change nothing.
func TestReceivedSizes(t *testing.T) {
	vp8Keyframe := func(w, h uint16) []byte {
		return []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8)}
	}
	var s receivedSizes
	if _, _, ok := s.extremes(map[string]bool{"a": true}); ok {
		t.Error("a size before any picture")
	}
	s.note("a", media.CodecVP8, vp8Keyframe(640, 360))
	s.note("b", media.CodecVP8, vp8Keyframe(1280, 720))
	s.note("c", media.CodecVP8, vp8Keyframe(320, 180))
	s.note("a", media.CodecVP8, []byte{0x51, 0, 0})           // an interframe: a's size stays
	s.note("b", media.CodecH264, []byte{0, 0, 1, 0x65, 0x88}) // an IDR slice without its SPS
	for _, tc := range []struct {
		here              []string
		largest, smallest image.Point
	}{
		{[]string{"a", "b", "c"}, image.Pt(1280, 720), image.Pt(320, 180)},
		{[]string{"a", "b"}, image.Pt(1280, 720), image.Pt(640, 360)},
		{[]string{"a", "nobody"}, image.Pt(640, 360), image.Pt(640, 360)},
	} {
		here := map[string]bool{}
		for _, who := range tc.here {
			here[who] = true
		}
		largest, smallest, ok := s.extremes(here)
		if !ok || largest != tc.largest || smallest != tc.smallest {
			t.Errorf("with %v here: largest %v, smallest %v (%v); want %v and %v", tc.here, largest, smallest, ok, tc.largest, tc.smallest)
		}
	}
	s.forget("a")
	if _, _, ok := s.extremes(map[string]bool{"a": true}); ok {
		t.Error("a's size after a left")
	}
}
