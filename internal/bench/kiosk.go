package main

// The kiosk figures (CALLBOX_BENCH=kiosk, and at the end of every run):
// the box against what it replaces, a browser kiosk (Chromium with
// livekit-client, as a Jitsi or LiveKit app full-screen on a Pi would
// run), each publishing the same 720p30 test pattern at the same most
// bits per second from the same peer namespace to the same LiveKit
// server, in turns, measured the same way while a Go participant (the
// viewer) decodes what arrives:
//
//   - kiosk_cpu_s_per_min_box, _chromium: CPU seconds per minute of all
//     the sender's processes (callboxd; Chromium's browser, GPU, network,
//     audio and renderer processes, not the node script that drives it).
//   - kiosk_pss_mb_box, _chromium: their summed proportional set size.
//   - kiosk_pixels_per_s_box, _chromium: pixels per second the viewer
//     decoded (Chromium lowers its resolution when it finds the CPU busy);
//     kiosk_resolution_box, _chromium: the size most pictures had.
//   - kiosk_cpu_per_pixel_ratio: the box's CPU per delivered pixel over
//     Chromium's (goal <= 0.08); kiosk_pss_ratio: memory (goal <= 0.12).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/callbox/callbox/internal/viewer"
)

const kioskMeasure = 30 * time.Second

type kioskResult struct {
	cpuSPerMin, pssMB, pixelsPerS float64
	size                          string
}

func kioskFigures() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := newNetBench(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	results := map[string]kioskResult{}
	for _, sender := range sendersRun() {
		r, err := b.kiosk(ctx, sender)
		if err != nil {
			return fmt.Errorf("kiosk, %s: %w", sender, err)
		}
		results[sender] = r
		fmt.Printf("kiosk_cpu_s_per_min_%s: %.1f s\n", sender, r.cpuSPerMin)
		fmt.Printf("kiosk_pss_mb_%s: %.0f MB\n", sender, r.pssMB)
		fmt.Printf("kiosk_pixels_per_s_%s: %.0f pixel/s\n", sender, r.pixelsPerS)
		fmt.Printf("kiosk_resolution_%s: %s\n", sender, r.size)
	}
	box, okBox := results["box"]
	chromium, okChromium := results["chromium"]
	if !okBox || !okChromium {
		return nil
	}
	fmt.Printf("kiosk_cpu_per_pixel_ratio: %.3f\n", (box.cpuSPerMin/box.pixelsPerS)/(chromium.cpuSPerMin/chromium.pixelsPerS))
	fmt.Printf("kiosk_pss_ratio: %.3f\n", box.pssMB/chromium.pssMB)
	return nil
}

// kiosk runs sender alone on a clean network while the viewer decodes it.
func (b *netBench) kiosk(ctx context.Context, sender string) (kioskResult, error) {
	v, pid, stop, err := b.watch(ctx, "kiosk", sender)
	if err != nil {
		return kioskResult{}, err
	}
	defer stop()
	processes := func() ([]int, error) {
		if sender == "box" {
			return []int{pid}, nil
		}
		return descendants(pid) // Chromium's processes; node only drives it
	}
	procs, err := processes()
	if err != nil {
		return kioskResult{}, err
	}
	before := cpuOfProcesses(procs)
	from := time.Now()
	time.Sleep(kioskMeasure)
	to := time.Now()
	if procs, err = processes(); err != nil {
		return kioskResult{}, err
	}
	var cpu time.Duration
	for p, used := range cpuOfProcesses(procs) {
		cpu += used - before[p] // a process started since counts whole
	}
	var pss float64
	for _, p := range procs {
		kb, err := pssKB(p)
		if err != nil {
			continue // it ended since
		}
		pss += kb / 1024
	}
	var pixels int
	var pics []viewer.Picture
	for _, p := range v.Pictures() {
		if p.From == sender && !p.Decoded.Before(from) && !p.Decoded.After(to) {
			pixels += p.Width * p.Height
			pics = append(pics, p)
		}
	}
	if len(pics) == 0 {
		return kioskResult{}, fmt.Errorf("the viewer decoded no picture of %s in %v", sender, kioskMeasure)
	}
	d := to.Sub(from)
	return kioskResult{cpuSPerMin: cpu.Seconds() * float64(time.Minute) / float64(d), pssMB: pss,
		pixelsPerS: float64(pixels) / d.Seconds(), size: commonSize(pics)}, nil
}

// descendants are the processes below pid (not pid itself), from /proc.
func descendants(pid int) ([]int, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // it ended since
		}
		fields, err := statFields(data)
		if err != nil {
			continue
		}
		p, err1 := strconv.Atoi(strings.Split(path, "/")[2])
		parent, err2 := strconv.Atoi(fields[1]) // ppid, the 4th field
		if err1 == nil && err2 == nil {
			children[parent] = append(children[parent], p)
		}
	}
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out, nil
}

// cpuOfProcesses is the CPU time each process used so far; one that
// ended is left out.
func cpuOfProcesses(pids []int) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, p := range pids {
		if used, err := processCPUOf(p); err == nil {
			out[p] = used
		}
	}
	return out
}

// processCPUOf is the CPU time process pid used so far, from /proc.
func processCPUOf(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields, err := statFields(data)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // the 14th field
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // the 15th
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}

// statFields are the fields of a /proc/PID/stat after the command's name
// (in parentheses, which may hold spaces and parentheses): the state first.
func statFields(stat []byte) ([]string, error) {
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return nil, errors.New("no command name")
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return nil, fmt.Errorf("%d fields", len(fields))
	}
	return fields, nil
}

// pssKB is the process's proportional set size, in kB.
func pssKB(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			return strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/smaps_rollup: no Pss", pid)
}
