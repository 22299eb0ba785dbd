// Command devserver runs a LiveKit server for `make run`: bound to one
// address (inside the network namespace scripts/netns.sh makes), with a key
// and secret it writes to a Callbox config file, until it is stopped.
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
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *port, *configOut, *camera, *microphone, *logFile); err != nil {
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
	if configOut != "" {
		cfg := config.Default()
		cfg.Call.URL, cfg.Call.APIKey, cfg.Call.APISecret = config.ServerURLs{srv.URL}, srv.APIKey, srv.APISecret
		cfg.Call.Room, cfg.Call.Identity, cfg.Call.Name = "family", "callbox", "Callbox"
		cfg.Video.Camera, cfg.Audio.Microphone = camera, microphone
		if err := config.Save(configOut, cfg); err != nil {
			return err
		}
	}
	fmt.Printf("LiveKit server %s at %s (log: %s)\n", lkserver.Version, srv.URL, srv.LogFile)
	<-ctx.Done()
	return nil
}
