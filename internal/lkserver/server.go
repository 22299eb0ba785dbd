// Package lkserver starts a real LiveKit server (livekit-server Version) for
// tests and `make run`, and mints tokens for it.
//
// It owns the server process, its generated config (keys, ports, RTC on one
// address) and its log file. It must not reach any address but the one it is
// given: tests give it netns.Addr inside a namespace made by the netns
// package, since pion leaves loopback out of ICE and a call over 127.0.0.1
// never connects. Use RunInNamespace from TestMain to get both.
package lkserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/livekit/protocol/auth"
)

// Options says where a server listens.
type Options struct {
	// Addr is the single IP address the server binds and announces for
	// RTC, e.g. netns.Addr. Required.
	Addr string
	// Port is the HTTP/WebSocket signalling port; 0 picks a free one.
	Port int
	// LogFile receives the server's output (appended). "" puts it in the
	// server's temporary directory, which Close removes.
	LogFile string
	// TURN turns on the server's own TURN over TLS on port 443 of Addr,
	// which it offers to every participant as turns:Addr:443 (the port
	// LiveKit always announces), with a certificate for Addr signed by a
	// certificate authority made for this server alone (Server.CAFile).
	// Port 443 needs the namespace's root, which netns gives.
	TURN bool
	// Redis, host:port, makes the server a node of the cluster that
	// shares that Redis (cluster.go); "" is a server on its own.
	Redis string
	// APISecret is the secret of the server's API key; "" makes one. The
	// nodes of a cluster share one, so that a token works on any.
	APISecret string
}

// turnTLSPort is where the server's TURN over TLS listens: LiveKit always
// tells clients port 443, whatever turn.tls_port says (a load balancer in
// front is expected to map it).
const turnTLSPort = 443

// Server is a running livekit-server process.
type Server struct {
	// URL is the signalling address for the SDK, ws://Addr:Port.
	URL string
	// APIKey and APISecret sign tokens; Token does it for you.
	APIKey    string
	APISecret string
	// LogFile holds the server's output, across restarts.
	LogFile string
	// CAFile, with Options.TURN, is the PEM certificate of the authority
	// that signed the TURN server's certificate: a client that trusts it
	// (SSL_CERT_FILE for Go) can use TURN over TLS. "" without TURN.
	CAFile string

	binary     string
	configFile string
	tempDir    string
	healthURL  string
	stun       *stunServer // the STUN server the server names, from Start to Close

	mu   sync.Mutex
	proc *child // nil while stopped
	// signalsFrom is when the server starts obeying SIGTERM; see signalDelay.
	signalsFrom time.Time
}

const (
	// startTimeout bounds the wait for a new server to answer, unless ctx
	// ends sooner.
	startTimeout = 30 * time.Second
	// The server takes a first SIGTERM as "drain": it exits at once if no
	// one is connected, else it waits for every participant to leave. A
	// second SIGTERM forces it (its own rule). Then comes SIGKILL.
	drainGrace = 500 * time.Millisecond
	forceGrace = 5 * time.Second
	// signalDelay: livekit-server answers HTTP about 100 ms before it marks
	// itself running, and a SIGTERM in between is ignored (Version's
	// service.LivekitServer.Start). Nothing shows the moment, so wait it out.
	signalDelay = 200 * time.Millisecond
	apiKey      = "callbox-test"
	logLines    = 30
)

// Start writes a config for opts and starts livekit-server with it, waiting
// until the server answers HTTP. ctx bounds only the start; Close ends the
// server. On failure the error holds the last lines of the server's log.
func Start(ctx context.Context, opts Options) (*Server, error) {
	ip := net.ParseIP(opts.Addr)
	if ip == nil || ip.To4() == nil {
		return nil, fmt.Errorf("lkserver: Options.Addr %q: not an IPv4 address", opts.Addr)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("lkserver: Options.Port %d: out of range", opts.Port)
	}
	binary, err := Binary(ctx)
	if err != nil {
		return nil, fmt.Errorf("lkserver: %w", err)
	}

	secret := opts.APISecret
	if secret == "" {
		if secret, err = randomSecret(); err != nil {
			return nil, fmt.Errorf("lkserver: %w", err)
		}
	}
	stun, err := startSTUN(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("lkserver: %w", err)
	}
	tempDir, err := os.MkdirTemp("", "lkserver-")
	if err != nil {
		_ = stun.close()
		return nil, fmt.Errorf("lkserver: %w", err)
	}
	// What Start made, undone when it fails.
	undo := func() {
		_ = os.RemoveAll(tempDir)
		_ = stun.close()
	}
	logFile := opts.LogFile
	if logFile == "" {
		logFile = filepath.Join(tempDir, "livekit-server.log")
	}
	configFile := filepath.Join(tempDir, "livekit.yaml")
	var turn *turnConfig
	caFile := ""
	if opts.TURN {
		if turn, caFile, err = writeTURNCertificates(tempDir, opts.Addr); err != nil {
			undo()
			return nil, fmt.Errorf("lkserver: %w", err)
		}
	}
	// A free port found may be taken by another process before the
	// server binds it: with ports of its own choosing, Start tries again.
	for attempt := 1; ; attempt++ {
		ports, err := choosePorts(opts.Addr, opts.Port)
		if err != nil {
			undo()
			return nil, fmt.Errorf("lkserver: %w", err)
		}
		if err := writeConfig(configFile, opts, ports, stun.addr(), secret, turn); err != nil {
			undo()
			return nil, fmt.Errorf("lkserver: %w", err)
		}
		hostPort := net.JoinHostPort(opts.Addr, strconv.Itoa(ports.http))
		s := &Server{
			URL:        "ws://" + hostPort,
			APIKey:     apiKey,
			APISecret:  secret,
			LogFile:    logFile,
			CAFile:     caFile,
			binary:     binary,
			configFile: configFile,
			tempDir:    tempDir,
			healthURL:  "http://" + hostPort + "/",
			stun:       stun,
		}
		err = s.start(ctx)
		if err == nil {
			return s, nil
		}
		if opts.Port != 0 || attempt == startAttempts || !strings.Contains(s.logTail(), "address already in use") {
			undo()
			return nil, err
		}
	}
}

// startAttempts is how many times Start chooses ports when one it chose
// was taken before the server bound it.
const startAttempts = 3

// Token returns a join token for identity in room, valid for an hour, with
// the default grants (publish, subscribe, data).
func (s *Server) Token(room, identity string) (string, error) {
	if room == "" || identity == "" {
		return "", fmt.Errorf("lkserver: token: room %q and identity %q must not be empty", room, identity)
	}
	token, err := auth.NewAccessToken(s.APIKey, s.APISecret).
		SetIdentity(identity).
		SetValidFor(time.Hour).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room}).
		ToJWT()
	if err != nil {
		return "", fmt.Errorf("lkserver: token for %s in room %s: %w", identity, room, err)
	}
	return token, nil
}

// Stop ends the server process but keeps its config, so Restart can bring
// it back on the same ports with the same keys. Stopping a stopped server
// does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

// Restart stops the server if it runs and starts it again with the same
// config, waiting until it answers.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start(ctx)
}

// Close stops the server and its STUN server and removes its temporary
// directory: the config, and the log unless Options.LogFile put it elsewhere.
func (s *Server) Close() error {
	return errors.Join(s.Stop(), s.stun.close(), os.RemoveAll(s.tempDir))
}

func (s *Server) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return fmt.Errorf("lkserver: start %s: already running", s.URL)
	}
	log, err := os.OpenFile(s.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("lkserver: log file: %w", err)
	}
	defer log.Close() // the child holds its own copy

	cmd := exec.Command(s.binary, "--config", s.configFile)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = withoutLiveKitVars(os.Environ())
	proc, err := startChild(cmd)
	if err != nil {
		return fmt.Errorf("lkserver: start %s: %w", s.binary, err)
	}
	s.proc = proc

	if err := s.waitReady(ctx); err != nil {
		_ = s.stopLocked()
		return fmt.Errorf("lkserver: start on %s: %w\nlast lines of %s:\n%s", s.URL, err, s.LogFile, s.logTail())
	}
	s.signalsFrom = time.Now().Add(signalDelay)
	return nil
}

// waitReady polls the health endpoint (the server has no other way to say
// it is up) until it answers "OK", the process exits, or time runs out.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	// No kept-alive connection: the server would wait for it on SIGTERM.
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		lastErr = s.healthy(ctx, client)
		if lastErr == nil {
			return nil
		}
		select {
		case <-s.proc.exited:
			if s.proc.err == nil {
				return errors.New("server exited")
			}
			return fmt.Errorf("server exited: %w", s.proc.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last check: %w)", ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

func (s *Server) healthy(ctx context.Context, client *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.healthURL, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "OK" {
		return fmt.Errorf("GET %s: %s %q", s.healthURL, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

func (s *Server) stopLocked() error {
	if s.proc == nil {
		return nil
	}
	proc := s.proc
	defer func() { s.proc = nil }()
	select {
	case <-proc.exited:
		return nil
	case <-time.After(time.Until(s.signalsFrom)):
	}
	for _, step := range []struct {
		signal syscall.Signal
		grace  time.Duration
	}{
		{syscall.SIGTERM, drainGrace},
		{syscall.SIGTERM, forceGrace},
		{syscall.SIGKILL, forceGrace},
	} {
		if err := proc.signal(step.signal, step.grace); err == nil {
			return nil
		}
	}
	return fmt.Errorf("lkserver: stop %s: process %d did not exit after SIGKILL", s.URL, proc.cmd.Process.Pid)
}

// Kill ends the server with SIGKILL, as a machine that dies would: no
// goodbye to its participants or to the other nodes of its cluster. Its
// config stays, for Restart.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	defer func() { s.proc = nil }()
	if err := s.proc.signal(syscall.SIGKILL, forceGrace); err != nil {
		return fmt.Errorf("lkserver: kill %s: %w", s.URL, err)
	}
	return nil
}

// child is a process the package started in a process group of its own,
// which ends with the test binary that started it.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	err    error         // cmd's exit status, valid once exited is closed
}

// startChild starts cmd and waits for it in a goroutine of its own, which
// ends when the process does.
func startChild(cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// A test binary that dies (timeout, panic) takes the process along.
		Pdeathsig: syscall.SIGKILL,
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that started the child ends, not
		// the process: hold this thread until the child has exited. The
		// goroutine ends locked, so the runtime retires the thread after.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.err = cmd.Wait()
		close(c.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// signal sends sig to the child's process group and waits up to grace for
// it to exit.
func (c *child) signal(sig syscall.Signal, grace time.Duration) error {
	_ = syscall.Kill(-c.cmd.Process.Pid, sig) // Setpgid made it its group's leader
	select {
	case <-c.exited:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("process %d still runs %v after %v", c.cmd.Process.Pid, grace, sig)
	}
}

// logTail returns the last lines of the log file, for error messages.
func (s *Server) logTail() string {
	data, err := os.ReadFile(s.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	return lastLines(string(data), logLines)
}

type serverPorts struct {
	http, rtcTCP, rtcUDP int
}

// choosePorts picks free ports on addr: httpPort (when not 0), a TCP port
// for ICE over TCP, and one UDP port that carries all ICE over UDP.
func choosePorts(addr string, httpPort int) (serverPorts, error) {
	ports := serverPorts{http: httpPort}
	var err error
	if ports.http == 0 {
		if ports.http, err = pickPort("tcp", addr); err != nil {
			return ports, err
		}
	}
	for {
		if ports.rtcTCP, err = pickPort("tcp", addr); err != nil {
			return ports, err
		}
		if ports.rtcTCP != ports.http {
			break
		}
	}
	if ports.rtcUDP, err = pickPort("udp", addr); err != nil {
		return ports, err
	}
	return ports, nil
}

// pickPort is freePort; a test makes it offer a taken port.
var pickPort = freePort

// freePort asks the kernel for a free port on addr. Another process may
// take it before the server binds; then the start fails with a clear error.
func freePort(network, addr string) (int, error) {
	hostPort := net.JoinHostPort(addr, "0")
	if network == "udp" {
		conn, err := net.ListenPacket(network, hostPort)
		if err != nil {
			return 0, fmt.Errorf("find free udp port on %s: %w", addr, err)
		}
		defer conn.Close()
		return conn.LocalAddr().(*net.UDPAddr).Port, nil
	}
	ln, err := net.Listen(network, hostPort)
	if err != nil {
		return 0, fmt.Errorf("find free tcp port on %s: %w", addr, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// config mirrors the parts of livekit-server's config (pkg/config in
// Version) that we set. It is written as JSON, which is YAML too: no YAML
// dependency and no quoting mistakes.
type config struct {
	Port          int               `json:"port"`
	BindAddresses []string          `json:"bind_addresses"`
	RTC           rtcConfig         `json:"rtc"`
	Keys          map[string]string `json:"keys"`
	Logging       loggingConfig     `json:"logging"`
	TURN          *turnConfig       `json:"turn,omitempty"`
	Redis         *redisConfig      `json:"redis,omitempty"`
}

// redisConfig is where the nodes of a cluster share their rooms.
type redisConfig struct {
	Address string `json:"address"`
}

type turnConfig struct {
	Enabled       bool     `json:"enabled"`
	Domain        string   `json:"domain"`
	TLSPort       int      `json:"tls_port"`
	CertFile      string   `json:"cert_file"`
	KeyFile       string   `json:"key_file"`
	BindAddresses []string `json:"bind_addresses"`
}

type rtcConfig struct {
	TCPPort       int       `json:"tcp_port"`
	UDPPort       string    `json:"udp_port"`
	NodeIP        string    `json:"node_ip"`
	UseExternalIP bool      `json:"use_external_ip"`
	STUNServers   []string  `json:"stun_servers"`
	IPs           ipsConfig `json:"ips"`
}

type ipsConfig struct {
	Includes []string `json:"includes"`
}

type loggingConfig struct {
	Level     string `json:"level"`
	PionLevel string `json:"pion_level"`
}

func writeConfig(path string, opts Options, ports serverPorts, stunAddr, secret string, turn *turnConfig) error {
	addr := opts.Addr
	var redis *redisConfig
	if opts.Redis != "" {
		redis = &redisConfig{Address: opts.Redis}
	}
	data, err := json.MarshalIndent(config{
		Port:          ports.http,
		BindAddresses: []string{addr},
		RTC: rtcConfig{
			TCPPort:       ports.rtcTCP,
			UDPPort:       strconv.Itoa(ports.rtcUDP),
			NodeIP:        addr,
			UseExternalIP: false,
			// Without one (or TURN over UDP) the server names Google's
			// and Twilio's to its participants (stun.go).
			STUNServers: []string{stunAddr},
			// Its media only on Addr. The namespace holds other addresses
			// too (peers' gateways, other cluster nodes'), and the server
			// binds its UDP port on each but names them all Addr (node_ip):
			// of these look-alike candidates it keeps one at random, and
			// checks sent from another address never pass a TURN relay,
			// whose permission is for Addr (TestUDPBlocked failed so after
			// the cluster tests).
			IPs: ipsConfig{Includes: []string{addr + "/32"}},
		},
		Keys:    map[string]string{apiKey: secret},
		Logging: loggingConfig{Level: "info", PionLevel: "error"},
		TURN:    turn,
		Redis:   redis,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	// The file holds the API secret.
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// randomSecret returns 64 hex characters; the server wants at least 32.
func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("api secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// withoutLiveKitVars drops LIVEKIT_* variables, which the server reads as
// flags (LIVEKIT_KEYS, LIVEKIT_CONFIG, ...) and would override our config.
func withoutLiveKitVars(env []string) []string {
	kept := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "LIVEKIT_") {
			kept = append(kept, kv)
		}
	}
	return kept
}
