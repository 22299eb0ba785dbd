package lkserver

// A cluster: LiveKit scales out as nodes that share Redis. A room lives on
// one node, signalling may land on any (the node it lands on relays to the
// room's), and when a node dies its rooms are made again on a node that
// lives, once their participants join again and LiveKit has marked the
// dead node unavailable (its stats are older than 5 s).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ClusterOptions says where a cluster's parts listen.
type ClusterOptions struct {
	// RedisAddr is the IP address Redis listens on (a free port of it).
	RedisAddr string
	// NodeAddrs are the nodes' addresses, one node on each (netns.AddAddr
	// puts more addresses in the test's namespace). At least two.
	NodeAddrs []string
	// LogDir receives redis.log and node-N.log (from 1); "" puts them in
	// the cluster's temporary directory, which Close removes.
	LogDir string
}

// Cluster is a running Redis and the LiveKit nodes that share it.
type Cluster struct {
	Redis *Redis
	// Nodes are the servers, in the order of ClusterOptions.NodeAddrs.
	// They share one API key and secret.
	Nodes []*Server
}

// StartCluster starts Redis, then each node with it, waiting until each
// answers. ctx bounds only the start; Close ends them all.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	if len(opts.NodeAddrs) < 2 {
		return nil, fmt.Errorf("lkserver: ClusterOptions.NodeAddrs: a cluster needs at least 2 nodes, got %d", len(opts.NodeAddrs))
	}
	logDir := opts.LogDir
	redisLog := ""
	if logDir != "" {
		redisLog = filepath.Join(logDir, "redis.log")
	}
	redis, err := StartRedis(ctx, opts.RedisAddr, redisLog)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Redis: redis}
	secret, err := randomSecret()
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("lkserver: %w", err)
	}
	for i, addr := range opts.NodeAddrs {
		nodeLog := ""
		if logDir != "" {
			nodeLog = filepath.Join(logDir, fmt.Sprintf("node-%d.log", i+1))
		}
		node, err := Start(ctx, Options{Addr: addr, LogFile: nodeLog, Redis: redis.Addr, APISecret: secret})
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("lkserver: cluster node %d: %w", i+1, err)
		}
		c.Nodes = append(c.Nodes, node)
	}
	return c, nil
}

// URLs are the nodes' signalling addresses, in order.
func (c *Cluster) URLs() []string {
	urls := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		urls[i] = n.URL
	}
	return urls
}

// Close ends every node, then Redis.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.Close())
	}
	return errors.Join(append(errs, c.Redis.Close())...)
}

// roomNodeMap is the Redis hash in which LiveKit keeps each room's node
// (pkg/routing's RoomNodeMapKey in Version).
const roomNodeMap = "room_node_map"

// RoomNode is the node that holds room now, as the cluster's Redis says.
func (c *Cluster) RoomNode(ctx context.Context, room string) (*Server, error) {
	id, err := c.Redis.hget(ctx, roomNodeMap, room)
	if err != nil {
		return nil, fmt.Errorf("lkserver: the node of room %s: %w", room, err)
	}
	if id == "" {
		return nil, fmt.Errorf("lkserver: room %s is on no node", room)
	}
	for _, n := range c.Nodes {
		if nodeID, err := n.NodeID(); err == nil && nodeID == id {
			return n, nil
		}
	}
	return nil, fmt.Errorf("lkserver: room %s is on node %s, none of the cluster's running nodes", room, id)
}

// PID is the server's process id, 0 while stopped: for a person who
// wants to kill a node of make run's cluster.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// nodeIDLine is how a server's log names the node it is ("nodeID": "ND_…").
var nodeIDLine = regexp.MustCompile(`"nodeID": "(ND_[A-Za-z0-9]+)"`)

// NodeID is the node's id in its cluster, from the last start's log (a
// restart is a new node).
func (s *Server) NodeID() (string, error) {
	data, err := os.ReadFile(s.LogFile)
	if err != nil {
		return "", fmt.Errorf("lkserver: node id: %w", err)
	}
	m := nodeIDLine.FindAllSubmatch(data, -1)
	if len(m) == 0 {
		return "", fmt.Errorf("lkserver: node id: not in %s", s.LogFile)
	}
	return string(m[len(m)-1][1]), nil
}

// Redis is a redis-server process (Debian's) that keeps nothing on disk.
type Redis struct {
	// Addr is where it answers, host:port.
	Addr    string
	LogFile string
	tempDir string
	proc    *child
}

// StartRedis starts redis-server on a free port of addr and waits until it
// answers. logFile "" puts its log in its temporary directory.
func StartRedis(ctx context.Context, addr, logFile string) (*Redis, error) {
	binary, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("lkserver: %w (scripts/deps.sh installs Debian's redis-server)", err)
	}
	port, err := pickPort("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lkserver: redis: %w", err)
	}
	tempDir, err := os.MkdirTemp("", "redis-")
	if err != nil {
		return nil, fmt.Errorf("lkserver: redis: %w", err)
	}
	if logFile == "" {
		logFile = filepath.Join(tempDir, "redis.log")
	}
	r := &Redis{Addr: net.JoinHostPort(addr, strconv.Itoa(port)), LogFile: logFile, tempDir: tempDir}
	cmd := exec.Command(binary, "--bind", addr, "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", tempDir, "--logfile", logFile,
		// Only the test's namespace reaches it: no password needed.
		"--protected-mode", "no")
	if r.proc, err = startChild(cmd); err != nil {
		_ = os.RemoveAll(tempDir)
		return nil, fmt.Errorf("lkserver: start %s: %w", binary, err)
	}
	if err := r.waitReady(ctx); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("lkserver: redis on %s: %w", r.Addr, err)
	}
	return r, nil
}

// waitReady asks PING until Redis answers, exits, or time runs out.
func (r *Redis) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		try, cancelTry := context.WithTimeout(ctx, time.Second)
		reply, err := r.command(try, "PING")
		cancelTry()
		if err == nil && reply == "PONG" {
			return nil
		}
		select {
		case <-r.proc.exited:
			return fmt.Errorf("redis-server exited (%w); see %s", r.proc.err, r.LogFile)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last answer %q, %w)", ctx.Err(), reply, err)
		case <-tick.C:
		}
	}
}

// Close ends Redis and removes its temporary directory.
func (r *Redis) Close() error {
	err := r.proc.signal(syscall.SIGKILL, forceGrace) // it keeps nothing: no need to be gentle
	return errors.Join(err, os.RemoveAll(r.tempDir))
}

// hget is the field of a Redis hash, "" when it has none.
func (r *Redis) hget(ctx context.Context, key, field string) (string, error) {
	return r.command(ctx, "HGET", key, field)
}

// command sends one command in Redis's protocol (RESP) and reads a simple
// or bulk string reply ("" for a nil one).
func (r *Redis) command(ctx context.Context, args ...string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	} else {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	}
	var req strings.Builder
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return "", err
	}
	in := bufio.NewReader(conn)
	line, err := in.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "+"):
		return line[1:], nil
	case strings.HasPrefix(line, "-"):
		return "", fmt.Errorf("redis: %s", line[1:])
	case line == "$-1":
		return "", nil
	case strings.HasPrefix(line, "$"):
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > 1<<20 {
			return "", fmt.Errorf("redis: bad reply length %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(in, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("redis: unexpected reply %q", line)
}
