package provisioning

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CPUTemperature reads the CPU's temperature in °C from the kernel's
// thermal zones (dir is /sys/class/thermal): the zone named like a CPU,
// else the first. nil where there is none (many VMs).
func CPUTemperature(dir string) *float64 {
	zones, _ := filepath.Glob(filepath.Join(dir, "thermal_zone*"))
	var pick string
	for _, z := range zones {
		kind, _ := os.ReadFile(filepath.Join(z, "type"))
		k := strings.ToLower(string(kind))
		if strings.Contains(k, "cpu") || strings.Contains(k, "x86_pkg") || strings.Contains(k, "soc") {
			pick = z
			break
		}
	}
	if pick == "" && len(zones) > 0 {
		pick = zones[0]
	}
	if pick == "" {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(pick, "temp"))
	if err != nil {
		return nil
	}
	milli, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil
	}
	c := float64(milli) / 1000
	return &c
}

// localAddresses lists the box's addresses other than loopback, for the
// status page and the setup announcement.
func localAddresses() []string {
	out := []string{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}

// LogBuffer keeps the daemon's last log lines for the page's log viewer.
// Give it to the logger as (one of) its writers. Nothing secret is logged,
// and the page redacts stored secrets once more on the way out.
type LogBuffer struct {
	mu    sync.Mutex
	lines []string
	max   int
}

// NewLogBuffer keeps up to max lines.
func NewLogBuffer(max int) *LogBuffer { return &LogBuffer{max: max} }

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if len(line) > 2000 {
			line = line[:2000]
		}
		b.lines = append(b.lines, string(line))
	}
	if over := len(b.lines) - b.max; over > 0 {
		b.lines = append([]string(nil), b.lines[over:]...)
	}
	return len(p), nil
}

// Lines returns the kept lines, oldest first.
func (b *LogBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

// StatusView is the status page.
type StatusView struct {
	Name        string        `json:"name"`
	Call        CallStatus    `json:"call"`
	UptimeS     int64         `json:"uptime_s"`
	CPUTempC    *float64      `json:"cpu_temp_c"` // null where the board has no sensor
	Addresses   []string      `json:"addresses"`
	Notice      string        `json:"notice,omitempty"`
	Fingerprint string        `json:"fingerprint,omitempty"`
	Network     NetworkStatus `json:"network"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	boot := s.store.Boot()
	st := s.ctl.Status()
	st.Error = s.redact(st.Error)
	writeJSON(w, http.StatusOK, StatusView{
		Name: boot.Config.Call.Name, Call: st, UptimeS: int64(s.now().Sub(s.started) / time.Second),
		CPUTempC: CPUTemperature(s.opts.ThermalDir), Addresses: localAddresses(),
		Notice: boot.Notice, Fingerprint: s.Fingerprint(), Network: s.network(r.Context()),
	})
}

// redact hides any stored secret in text from elsewhere (an error of the
// call server), so none reaches the page.
func (s *Server) redact(text string) string {
	for _, secret := range s.store.knownSecrets() {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "[hidden]")
		}
	}
	return text
}

func (s *Server) handleLog(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	lines := []string{}
	if s.opts.Logs != nil {
		for _, l := range s.opts.Logs.Lines() {
			lines = append(lines, s.redact(l))
		}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"lines": lines})
}
