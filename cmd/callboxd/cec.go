package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/cec"
)

// cecKeys are the TV remote's keys the box acts on, and what each does.
// OK and green answer (and nothing else: the TV sends keys to the box
// only while it shows the box), Back, red and stop hang up; yellow shows
// the other of two shared screens large, blue starts or stops sharing
// the box's HDMI input.
var cecKeys = map[cec.Key]string{
	cec.KeySelect:       string(call.ActionAnswer),
	cec.KeyGreen:        string(call.ActionAnswer),
	cec.KeyBack:         string(call.ActionHangUp),
	cec.KeyRed:          string(call.ActionHangUp),
	cec.KeyStop:         string(call.ActionHangUp),
	cec.KeyMute:         string(call.ActionMute),
	cec.KeyMuteFunction: string(call.ActionMute),
	cec.KeyVolumeUp:     actionVolumeUp,
	cec.KeyVolumeDown:   actionVolumeDown,
	cec.KeyYellow:       actionShareOther,
	cec.KeyBlue:         actionShare,
}

// openCEC opens a CEC adapter with the box claimed on it; tests put a
// fake here.
type openCEC func(path string) (cec.Device, error)

// startCEC wakes the TV for calls and reads its remote (cec.* settings).
// Off, or without an adapter, it opens nothing; without one it says so
// once, and the box works as before.
func (d *daemon) startCEC(ctx context.Context, wg *sync.WaitGroup) {
	cfg := d.cfg.CEC
	if !cfg.Enabled {
		return
	}
	open := d.openCEC
	if open == nil {
		open = func(path string) (cec.Device, error) {
			return cec.OpenAdapter(path, cec.AdapterOptions{Name: d.cfg.Call.Name, Events: func(what string) {
				d.log.Info("HDMI-CEC: "+what, "device", path)
			}})
		}
	}
	path, err := chooseCECAdapter(cfg.Device, cec.Adapters(), cec.PhysicalAddressOf)
	var dev cec.Device
	if err == nil {
		dev, err = open(path)
	}
	if err != nil {
		d.log.Warn("HDMI-CEC: the TV will not be woken or switched to the box, nor its remote read", "err", err)
		return
	}
	d.log.Info("HDMI-CEC ready", "device", path, "logical_address", dev.LogicalAddress())
	statuses, stop := d.session.Watch()
	act := &controls{log: d.log, controller: d.controller, box: d.boxActions()}
	wg.Go(func() {
		defer stop()
		defer dev.Close()
		runCEC(ctx, cec.NewSource(dev, d.log), statuses, act.do, d.log)
	})
}

// chooseCECAdapter is the adapter setting names, or for "auto" the first
// of adapters with a TV behind it; failing that, the first that is not a
// TV's own (physical address 0.0.0.0).
func chooseCECAdapter(setting string, adapters []string, physical func(string) (cec.PhysicalAddress, error)) (string, error) {
	if setting != config.CECAuto {
		return setting, nil
	}
	if len(adapters) == 0 {
		return "", errors.New("this board has no HDMI-CEC adapter (no /dev/cec*)")
	}
	fallback := ""
	for _, path := range adapters {
		p, err := physical(path)
		switch {
		case err != nil || p == 0: // unreadable, or the TV's side of a bus
		case p != cec.NoPhysicalAddress:
			return path, nil
		case fallback == "":
			fallback = path
		}
	}
	if fallback == "" {
		return "", fmt.Errorf("none of the CEC adapters %v can be a source: each is a TV's own (physical address 0.0.0.0) or cannot be read", adapters)
	}
	return fallback, nil
}

// runCEC wakes the TV when a call rings or is wanted, gives its input
// back when the call is over, and does what the remote's keys ask, until
// ctx ends.
func runCEC(ctx context.Context, src *cec.Source, statuses <-chan call.Status, do func(context.Context, string), log *slog.Logger) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		err := src.Run(ctx, func(p cec.Press) {
			a, ok := cecKeys[p.Key]
			if !ok || (p.Repeat && a != actionVolumeUp && a != actionVolumeDown) {
				return // a held key repeats the volume only
			}
			log.Info("HDMI-CEC: a key from the TV's remote", "key", fmt.Sprintf("%#02x", byte(p.Key)), "action", a)
			do(ctx, a)
		})
		if err != nil {
			log.Warn("HDMI-CEC: the TV's remote is not read any more", "err", err)
		}
	})
	last := tvIdle
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-statuses:
			now := tvPhaseOf(st)
			if now == last {
				continue
			}
			last = now
			var err error
			switch now {
			case tvRinging, tvInCall:
				err = src.OneTouchPlay()
			case tvIdle:
				err = src.GiveBack()
			}
			if err != nil {
				log.Warn("HDMI-CEC", "err", err)
			}
		}
	}
}

// tvPhase is what the TV should show: the box (a call rings, or one is
// wanted) or whatever it showed before.
type tvPhase int

const (
	tvIdle tvPhase = iota
	tvRinging
	tvInCall
)

func tvPhaseOf(st call.Status) tvPhase {
	switch {
	case st.CallWanted:
		return tvInCall
	case st.State == call.Ringing:
		return tvRinging
	}
	return tvIdle
}
