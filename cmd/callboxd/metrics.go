package main

// The box's Prometheus metrics (metrics.listen, metrics.token): what the
// status page and the call already know, read at each scrape, never
// measured a second time. The call's state and participants are the status
// page's (provisioning.CallStatus); bytes sent, loss and round trip the
// call's (call.MediaStats: what it sends, what the server's receiver
// reports say); bytes and pictures received the receiver's, freezes the
// screen's; the encoder, its
// fallbacks and the picture size the video sender's; the decoders and
// theirs the receiver's; received sound the
// mixer's jitter buffers'; the CPU's temperature the page's reading. The
// rest is the machine's (/proc, /sys) and the client library's process and
// Go collectors (CPU time, memory).

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning"
)

// callStates are the values of callbox_call_state's label: the call's
// states, and the box's own before a call can run.
var callStates = []string{"setup needed", "settings needed", call.Idle.String(), call.Joining.String(),
	call.InCall.String(), call.Reconnecting.String(), call.Failed.String()}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("callbox_"+name, help, labels, nil)
}

// The metrics the box exports, besides the process and Go collectors'.
var (
	descCallState     = desc("call_state", "1 for the state the call is in (label state), 0 for the others.", "state")
	descCallDuration  = desc("call_duration_seconds", "How long the box has been in the call; 0 when not in one.")
	descParticipants  = desc("participants", "The others in the call.")
	descReconnects    = desc("reconnects_total", "The times the call was lost and the box reconnected, since the call started.")
	descSentBytes     = desc("sent_bytes_total", "Coded media bytes sent, by kind (audio, video: every simulcast layer), since the call started.", "kind")
	descReceivedBytes = desc("received_bytes_total", "Coded media bytes received from the others, by kind.", "kind")
	descSentLost      = desc("sent_packets_lost_total", "The camera's packets (largest layer) the call server reports lost, in this join.")
	descLossRatio     = desc("sent_loss_ratio", "The part of the camera's packets the call server last reported lost (0 to 1).")
	descRoundTrip     = desc("round_trip_seconds", "The round trip to the call server, from its last receiver report; 0 before one.")
	descFramesSent    = desc("video_frames_sent_total", "The camera's pictures sent (the largest layer).")
	descFramesGot     = desc("video_frames_received_total", "The others' pictures received, all of them together.")
	descFreezes       = desc("video_freezes_total", "The times another's picture stopped on the screen at a frame that did not decode, until the next keyframe (with a screen).")
	descVideoSize     = desc("video_sent_pixels", "The camera's picture as the encoder codes it (the largest layer), by dimension (width, height).", "dimension")
	descVideoGotSize  = desc("video_received_pixels", "The others' camera pictures as the box receives them (their keyframes' headers say), the largest and the smallest by area (picture), by dimension (width, height); absent before any.", "picture", "dimension")
	descGotPackets    = desc("received_packets_total", "RTP packets received from the others, by kind (audio, video), since the call started.", "kind")
	descGotLost       = desc("received_packets_lost_total", "RTP packets of the others that never arrived (their sequence numbers' gaps, RFC 3550), by kind, since the call started.", "kind")
	descGotJitter     = desc("received_jitter_seconds", "The largest interarrival jitter (RFC 3550) of the others' tracks received now, by kind; 0 with none.", "kind")
	descEncoder       = desc("video_encoder_info", "1 for the video encoder in use: kind (hardware, software), codec, device.", "kind", "codec", "device")
	descFallbacks     = desc("video_encoder_fallbacks_total", "The times software took over from a failing hardware encoder.")
	descDecoders      = desc("video_decoders", "The others' video decoders open, by kind (hardware, software).", "kind")
	descDecFallbacks  = desc("video_decoder_fallbacks_total", "The times software took over from a failing hardware decoder.")
	descAudioFrames   = desc("audio_received_frames_total", "Received sound frames played, by how (decoded, fec, concealed: made up for lost or late packets), of the senders now in the call.", "how")
	descCPUTemp       = desc("cpu_temperature_celsius", "The CPU's temperature, as the status page shows it.")
	descLoad          = desc("load_average", "The system's load average over 1, 5 and 15 minutes (/proc/loadavg).", "minutes")
	descMemAvailable  = desc("memory_available_bytes", "Memory available to programs (/proc/meminfo MemAvailable).")
	descMemTotal      = desc("memory_total_bytes", "The machine's memory (/proc/meminfo MemTotal).")
	descThrottled     = desc("throttled", "On a Raspberry Pi, 1 while the firmware reports the condition (under-voltage, frequency-capped, throttled, soft-temperature-limit); absent elsewhere.", "condition")
	descUptime        = desc("uptime_seconds", "Since callboxd started.")
	descBuild         = desc("build_info", "1, with the callboxd version and the Go that built it.", "version", "goversion")
)

// boxCollector reads the box's numbers at each scrape.
type boxCollector struct {
	box     *localBox
	started time.Time
	// Where the machine's numbers are read; tests point them elsewhere.
	proc, thermal, throttled string
	version, goVersion       string
}

func newBoxCollector(box *localBox) *boxCollector {
	c := &boxCollector{box: box, started: time.Now(), proc: "/proc", thermal: "/sys/class/thermal",
		throttled: "/sys/devices/platform/soc/soc:firmware/get_throttled", version: "unknown", goVersion: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		c.goVersion = bi.GoVersion
		c.version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				c.version = s.Value[:12]
			}
		}
	}
	return c
}

func (c *boxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCallState, descCallDuration, descParticipants, descReconnects, descSentBytes,
		descReceivedBytes, descSentLost, descLossRatio, descRoundTrip, descFramesSent, descFramesGot, descFreezes, descVideoSize, descVideoGotSize,
		descGotPackets, descGotLost, descGotJitter, descEncoder, descFallbacks, descDecoders, descDecFallbacks, descAudioFrames, descCPUTemp, descLoad, descMemAvailable,
		descMemTotal, descThrottled, descUptime, descBuild} {
		ch <- d
	}
}

func (c *boxCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	st := c.box.status()
	for _, s := range callStates {
		gauge(descCallState, boolValue(st.State == s), s)
	}
	gauge(descParticipants, float64(len(st.Participants)))
	gauge(descUptime, time.Since(c.started).Seconds())
	gauge(descBuild, 1, c.version, c.goVersion)
	c.collectMachine(gauge)

	d := c.box.current()
	if d == nil {
		gauge(descCallDuration, 0)
		return
	}
	cs := d.session.Status()
	inCall := 0.0
	if cs.State == call.InCall {
		inCall = time.Since(cs.Since).Seconds()
	}
	gauge(descCallDuration, inCall)
	counter(descReconnects, float64(cs.Reconnects))
	ms := d.session.MediaStats()
	counter(descSentBytes, float64(ms.SentBytes["audio"]), "audio")
	counter(descSentBytes, float64(ms.SentBytes["video"]), "video")
	counter(descSentLost, float64(ms.PacketsLost))
	gauge(descLossRatio, ms.FractionLost)
	gauge(descRoundTrip, ms.RoundTrip.Seconds())
	counter(descFramesSent, float64(ms.FramesSent))
	for _, kind := range []string{"audio", "video"} {
		got := ms.Received[kind]
		counter(descGotPackets, float64(got.Packets), kind)
		counter(descGotLost, float64(got.Lost), kind)
		gauge(descGotJitter, got.Jitter.Seconds(), kind)
	}
	if d.rx != nil {
		counter(descReceivedBytes, float64(d.rx.audioBytesGot.Load()), "audio")
		counter(descReceivedBytes, float64(d.rx.videoBytesGot.Load()), "video")
		counter(descFramesGot, float64(d.rx.picturesGot.Load()))
		if screen := d.rx.screen.Load(); screen != nil {
			counter(descFreezes, float64(screen.Freezes()))
		}
		hw, sw := d.rx.decoders.InUse()
		gauge(descDecoders, float64(hw), "hardware")
		gauge(descDecoders, float64(sw), "software")
		counter(descDecFallbacks, float64(d.rx.decoders.Fallbacks()))
		if largest, smallest, ok := d.rx.pictureSizes(); ok {
			gauge(descVideoGotSize, float64(largest.X), "largest", "width")
			gauge(descVideoGotSize, float64(largest.Y), "largest", "height")
			gauge(descVideoGotSize, float64(smallest.X), "smallest", "width")
			gauge(descVideoGotSize, float64(smallest.Y), "smallest", "height")
		}
	}
	if w, h := d.video.Size(); w > 0 {
		gauge(descVideoSize, float64(w), "width")
		gauge(descVideoSize, float64(h), "height")
	}
	if choice := d.video.Choice(); choice.Codec != "" {
		kind := "software"
		if choice.Hardware {
			kind = "hardware"
		}
		gauge(descEncoder, 1, kind, string(choice.Codec), choice.Device)
	}
	counter(descFallbacks, float64(d.video.Fallbacks()))
	if d.rx != nil && d.rx.mixer != nil {
		js := d.rx.mixer.Stats()
		counter(descAudioFrames, float64(js.Decoded), "decoded")
		counter(descAudioFrames, float64(js.FromFEC), "fec")
		counter(descAudioFrames, float64(js.Concealed), "concealed")
	}
}

// collectMachine reads the machine's numbers; what a machine does not
// have (a thermal zone, a Raspberry Pi's firmware) is left out.
func (c *boxCollector) collectMachine(gauge func(*prometheus.Desc, float64, ...string)) {
	if t := provisioning.CPUTemperature(c.thermal); t != nil {
		gauge(descCPUTemp, *t)
	}
	if data, err := os.ReadFile(c.proc + "/loadavg"); err == nil {
		f := strings.Fields(string(data))
		for i, minutes := range []string{"1", "5", "15"} {
			if i < len(f) {
				if v, err := strconv.ParseFloat(f[i], 64); err == nil {
					gauge(descLoad, v, minutes)
				}
			}
		}
	}
	if data, err := os.ReadFile(c.proc + "/meminfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, err := strconv.ParseFloat(f[1], 64)
			switch {
			case err != nil:
			case f[0] == "MemAvailable:":
				gauge(descMemAvailable, kb*1024)
			case f[0] == "MemTotal:":
				gauge(descMemTotal, kb*1024)
			}
		}
	}
	// The Raspberry Pi firmware's get_throttled, as vcgencmd reads it:
	// bits 0 to 3 are the conditions now.
	if data, err := os.ReadFile(c.throttled); err == nil {
		if bits, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(data)), "0x"), 16, 32); err == nil {
			for bit, condition := range []string{"under-voltage", "frequency-capped", "throttled", "soft-temperature-limit"} {
				gauge(descThrottled, boolValue(bits&(1<<bit) != 0), condition)
			}
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler serves the registry's metrics to a scraper that sends
// the bearer token, and 401 to anyone else.
func metricsHandler(reg *prometheus.Registry, token string) http.Handler {
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="callbox metrics"`)
			http.Error(w, "the metrics need the bearer token of metrics.token", http.StatusUnauthorized)
			return
		}
		metrics.ServeHTTP(w, r)
	})
}

// newMetricsRegistry is what the box exports: its own collector, and the
// client library's process (CPU time, memory, file descriptors) and Go
// runtime collectors.
func newMetricsRegistry(box *localBox) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metricsCollectors(box)...)
	return reg
}

func metricsCollectors(box *localBox) []prometheus.Collector {
	return []prometheus.Collector{newBoxCollector(box), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector()}
}

// serveMetrics serves the metrics as mc says, until ctx ends; off when
// mc.Listen is empty. A port that cannot be opened is logged, and the box
// goes on without its metrics.
func serveMetrics(ctx context.Context, mc config.Metrics, box *localBox, log *slog.Logger) {
	if mc.Listen == "" {
		return
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", mc.Listen)
	if err != nil {
		log.Error("the metrics cannot be served", "listen", mc.Listen, "err", err)
		return
	}
	srv := &http.Server{Handler: metricsHandler(newMetricsRegistry(box), mc.Token), ReadHeaderTimeout: 5 * time.Second}
	log.Info("metrics", "url", fmt.Sprintf("http://%s/metrics", ln.Addr()))
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // a server that failed by itself: the shutdown below ends too
	wg.Go(func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown) // what did not finish in time is cut off
	})
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("the metrics stopped", "err", err)
	}
}
