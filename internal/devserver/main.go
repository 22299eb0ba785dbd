// Command devserver runs a LiveKit server for `make run`: bound to one
// address (inside the network namespace scripts/netns.sh makes), with a key
// and secret it writes to a Callbox config file, until it is stopped. With
// -cluster N (make run CLUSTER=N), a cluster instead: Redis on that
// address and N nodes on lkserver.NodeAddrs, which scripts/netns.sh puts
// in the namespace; the config lists them all in call.url.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/internal/lkserver"
)

func main() {
	addr := flag.String("addr", "10.99.0.1", "address to bind and announce")
	port := flag.Int("port", 7880, "signalling port")
	configOut := flag.String("config", "", "write a callboxd config for this server here")
	camera := flag.String("camera", config.CameraTestPattern, "camera for the written config")
	microphone := flag.String("microphone", config.MicrophoneTone, "microphone for the written config")
	logFile := flag.String("log", "", "server log file")
	nodes := flag.Int("cluster", 0, "start a cluster of this many nodes (2 or more) sharing Redis, instead of one server; -log names a directory then")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	if *nodes > 0 {
		err = runCluster(ctx, *addr, *nodes, *configOut, *camera, *microphone, *logFile)
	} else {
		err = run(ctx, *addr, *port, *configOut, *camera, *microphone, *logFile)
	}
	if err != nil {
		slog.Error("devserver", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, port int, configOut, camera, microphone, logFile string) error {
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: addr, Port: port, LogFile: logFile})
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := writeConfig(configOut, []string{srv.URL}, srv, camera, microphone); err != nil {
		return err
	}
	fmt.Printf("LiveKit server %s at %s (log: %s)\n", lkserver.Version, srv.URL, srv.LogFile)
	<-ctx.Done()
	return nil
}

func runCluster(ctx context.Context, addr string, nodes int, configOut, camera, microphone, logDir string) error {
	c, err := lkserver.StartCluster(ctx, lkserver.ClusterOptions{RedisAddr: addr, NodeAddrs: lkserver.NodeAddrs(nodes), LogDir: logDir})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := writeConfig(configOut, c.URLs(), c.Nodes[0], camera, microphone); err != nil {
		return err
	}
	fmt.Printf("a LiveKit %s cluster: Redis at %s (log: %s)\n", lkserver.Version, c.Redis.Addr, c.Redis.LogFile)
	for i, n := range c.Nodes {
		fmt.Printf("  node %d at %s, process %d (log: %s)\n", i+1, n.URL, n.PID(), n.LogFile)
	}
	<-ctx.Done()
	return nil
}

// writeConfig writes a callboxd config for the servers at urls, whose key
// and secret srv holds, to path; "" writes none.
func writeConfig(path string, urls []string, srv *lkserver.Server, camera, microphone string) error {
	if path == "" {
		return nil
	}
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.APIKey, cfg.Call.APISecret = urls, srv.APIKey, srv.APISecret
	cfg.Call.Room, cfg.Call.Identity, cfg.Call.Name = "family", "callbox", "Callbox"
	cfg.Video.Camera, cfg.Audio.Microphone = camera, microphone
	return config.Save(path, cfg)
}
