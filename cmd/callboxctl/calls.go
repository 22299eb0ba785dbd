package main

// answer, hang-up, call and calls: the box's call from its console, as its
// buttons would (the local API's /action and /ring).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/callbox/callbox/provisioning"
)

// act asks the running box for the action the command names: answer,
// hang-up (or decline what rings), call (the box's own room), call N
// (speed dial N), share start or share stop (the content input's share),
// share other (the other of two shares large on the screen).
func act(ctx context.Context, name string, args []string, out io.Writer) error {
	var shareWhat string
	if name == "share" {
		if len(args) == 0 || args[0] != "start" && args[0] != "stop" && args[0] != "other" {
			return fmt.Errorf("share: say start, stop or other")
		}
		shareWhat, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	socket := fs.String("socket", defaultSocket(), "callboxd's local API socket (callboxd -control)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	action := map[string]string{"answer": "answer", "hang-up": "hang_up", "call": "call", "do-not-disturb": "do_not_disturb",
		"share": "share_" + shareWhat}[name]
	switch {
	case name == "call" && fs.NArg() == 1:
		n, err := strconv.Atoi(fs.Arg(0))
		if err != nil || n < 1 {
			return fmt.Errorf("call %q: give the contact's number, from 1", fs.Arg(0))
		}
		action = fmt.Sprintf("speed_dial_%d", n)
	case fs.NArg() > 0:
		return fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	did, err := provisioning.LocalClient{Socket: *socket}.Act(ctx, action)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, did)
	return nil
}

// calls prints how the box's call stands and the calls it missed.
func calls(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("calls", flag.ContinueOnError)
	socket := fs.String("socket", defaultSocket(), "callboxd's local API socket (callboxd -control)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := provisioning.LocalClient{Socket: *socket}.Ring(ctx)
	if err != nil {
		return err
	}
	switch {
	case len(st.Callers) > 0:
		fmt.Fprintf(out, "%s: %v\n", st.State, st.Callers)
	case st.Callee != "":
		fmt.Fprintf(out, "%s %s %s\n", st.State, st.Callee, st.Heard)
	default:
		fmt.Fprintln(out, st.State)
	}
	if st.DoNotDisturb && st.DoNotDisturbUntil != "" {
		fmt.Fprintf(out, "do not disturb until %s: calls are declined\n", st.DoNotDisturbUntil)
	} else if st.DoNotDisturb {
		fmt.Fprintln(out, "do not disturb: calls are declined")
	}
	if st.Outcome != "" {
		fmt.Fprintf(out, "last call out: %s, %s\n", st.OutcomeOf, st.Outcome)
	}
	for _, m := range st.Missed {
		fmt.Fprintf(out, "missed: %s at %s (%s)\n", m.Name, m.At.Format("Mon 2 Jan 15:04"), m.Why)
	}
	return nil
}
