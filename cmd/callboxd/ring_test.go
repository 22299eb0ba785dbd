package main

// Calls that ring, between two boxes through the real LiveKit server: box
// A, a callboxd process, calls box B, callboxd run in this process as its
// main runs it (runMode) so that its call LED can be a fake GPIO line;
// each with its own settings, offscreen screen (read through its local
// API, as callboxctl screenshot does) and file speaker.

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	periph "periph.io/x/conn/v3/gpio"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
)

// The ring tests' boxes send 320x180 pictures and a tone each.
const (
	ringW, ringH = 320, 180
	toneA, toneB = 300, 500
	callLEDLine  = "GPIO5"
)

// ringBox is one box of a ring test.
type ringBox struct {
	api     provisioning.LocalClient
	speaker string     // its speaker's file
	lines   *fakeLines // in-process boxes: their GPIO lines
	said    func(t *testing.T, text string)
	log     func() string // what it said so far
}

// ringSettings are a box's settings: its line, a tone, a small test
// pattern, an offscreen screen without self view, a file speaker, and
// contacts by line with their names.
func ringSettings(t *testing.T, srv *lkserver.Server, line, identity, name string, tone int, contacts ...string) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity, cfg.Call.Name = config.ServerURLs{srv.URL}, line, identity, name
	cfg.Call.APIKey, cfg.Call.APISecret = srv.APIKey, srv.APISecret
	cfg.Call.Encryption = config.EncryptionNone
	cfg.Video.Width, cfg.Video.Height, cfg.Video.FPS, cfg.Video.Encoder = ringW, ringH, 15, config.EncoderSoftware
	cfg.Audio.ToneHz = tone
	cfg.Display.Output, cfg.Display.Width, cfg.Display.Height, cfg.Display.FPS, cfg.Display.SelfView = "offscreen", 640, 360, 10, false
	cfg.Speaker.Device = "file:" + filepath.Join(t.TempDir(), identity+".raw")
	cfg.Controls.StartInCall = false
	cfg.Ring.Enabled = true
	cfg.Controls.ContactNames = map[string]string{}
	for i := 0; i+1 < len(contacts); i += 2 {
		cfg.Controls.Contacts = append(cfg.Controls.Contacts, contacts[i])
		cfg.Controls.ContactNames[contacts[i]] = contacts[i+1]
	}
	return cfg
}

// startProcessBox runs cfg in a callboxd process.
func startProcessBox(t *testing.T, cfg config.Config) *ringBox {
	t.Helper()
	dir := t.TempDir()
	path, socket := filepath.Join(dir, "callbox.toml"), filepath.Join(dir, "control.sock")
	if err := config.Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "-config", path, "-control", socket)
	return &ringBox{api: provisioning.LocalClient{Socket: socket}, speaker: cfg.Speaker.Device[len("file:"):],
		said: func(t *testing.T, text string) { t.Helper(); d.waitLog(t, text, 30*time.Second) }, log: d.output}
}

// startInProcessBox runs cfg as callboxd's main does, in this process,
// with a call LED on a fake GPIO line.
func startInProcessBox(t *testing.T, cfg config.Config) *ringBox {
	t.Helper()
	cfg.Controls.LEDs = map[string]config.LED{config.LEDCall: {Line: callLEDLine}}
	socket := filepath.Join(t.TempDir(), "control.sock")
	lines := &fakeLines{}
	logs := startBox(t, configMode{cfg: cfg, prepare: func(d *daemon) { d.openLine = lines.open }}, socket) // watchdog_test.go
	return &ringBox{api: provisioning.LocalClient{Socket: socket}, speaker: cfg.Speaker.Device[len("file:"):], lines: lines,
		said: func(t *testing.T, text string) {
			t.Helper()
			logs.Wait(t, regexp.MustCompile(regexp.QuoteMeta(text)), 30*time.Second)
		}, log: logs.String}
}

// ring waits until the box's call stands as ok says, and returns it.
func (b *ringBox) ring(t *testing.T, what string, timeout time.Duration, ok func(provisioning.RingStatus) bool) provisioning.RingStatus {
	t.Helper()
	var st provisioning.RingStatus
	err := daemontest.Poll(timeout, 100*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if st, err = b.api.Ring(ctx); err != nil {
			return err
		}
		if !ok(st) {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return st
}

func (b *ringBox) act(t *testing.T, action string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	did, err := b.api.Act(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return did
}

// played is the last d of what the box's speaker played.
func (b *ringBox) played(t *testing.T, d time.Duration) []int16 {
	t.Helper()
	data, err := os.ReadFile(b.speaker)
	if err != nil {
		t.Fatal(err)
	}
	n := min(len(data)/2, int(d.Seconds()*audio.SampleRate))
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(data[len(data)-2*n+2*i:]))
	}
	return pcm
}

// blinks counts the call LED's changes over d.
func (b *ringBox) blinks(d time.Duration) (changes int, lit bool) {
	pin := b.lines.pins[callLEDLine]
	last := pin.Read()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if l := pin.Read(); l != last {
			changes, last = changes+1, l
		}
	}
	return changes, last == periph.High
}

// othersPicture reads the frame number of the one other's picture on the
// box's screen (a screenshot): the tile the layout gives one participant.
func othersPicture(t *testing.T, b *ringBox) (uint32, error) {
	t.Helper()
	f, _, err := screenshot(b.api)
	if err != nil {
		return 0, err
	}
	return pictureIn(f)
}

func pictureIn(f *display.Frame) (uint32, error) {
	tile := compose.Arrange(f.Bounds().Size(), []string{"other"}, "", false).Tiles[0]
	stamp, err := compose.ReadTileStamp(f, compose.Fit(image.Pt(ringW, ringH), tile.Rect), image.Pt(ringW, ringH))
	return stamp.Frame, err
}

// seesPictures waits until the box's screen shows the other's pictures,
// advancing.
func seesPictures(t *testing.T, who string, b *ringBox) {
	t.Helper()
	var first uint32
	err := daemontest.Poll(20*time.Second, 200*time.Millisecond, func() error {
		n, err := othersPicture(t, b)
		switch {
		case err != nil:
			return fmt.Errorf("no picture: %w", err)
		case first == 0:
			first = n
			return fmt.Errorf("frame %d, waiting for a later one", n)
		case n <= first:
			return fmt.Errorf("frame %d after %d", n, first)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s's screen does not show the other's pictures: %v", who, err)
	}
	// The local API counts the pictures shown (what receive_nine's frame
	// rate per tile is read from).
	ps, err := b.api.Participants(t.Context())
	if err != nil || !slices.ContainsFunc(ps, func(p provisioning.Participant) bool { return p.Pictures >= 2 }) {
		t.Errorf("%s's local API lists %+v (%v); want the other with the pictures shown", who, ps, err)
	}
}

// hears waits until the last second the box played is mostly the tone.
func hears(t *testing.T, who string, b *ringBox, hz float64) {
	t.Helper()
	err := daemontest.Poll(15*time.Second, 250*time.Millisecond, func() error {
		if share := goertzelShare(b.played(t, time.Second), hz); share < 0.3 {
			return fmt.Errorf("%g Hz is %.2f of the last second's power", hz, share)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s does not hear the other's tone: %v", who, err)
	}
}

// startBoxA starts box A, a callboxd process whose speed dial 1 is B's
// line, and waits until A and B both wait in their lines.
func startBoxA(t *testing.T, srv *lkserver.Server, b *ringBox) *ringBox {
	t.Helper()
	a := startProcessBox(t, ringSettings(t, srv, "line-a", "box-a", "Box A", toneA, "line-b", "Box B"))
	a.said(t, "in the line, waiting for calls")
	b.said(t, "in the line, waiting for calls")
	return a
}

func ringing(st provisioning.RingStatus) bool { return st.State == call.Ringing.String() }
func waiting(st provisioning.RingStatus) bool { return st.State == call.Idle.String() }

// TestBoxCallsBox: A calls B from speed dial. B rings: its speaker plays
// the ring tone, its screen names A as B knows A (its contact "Grandma"),
// its call LED blinks; A's screen says it calls and hears ringing. B
// answers through its local API: each shows the other's pictures and
// plays the other's tone. Then a call B declines, and one nobody answers,
// each with what A's screen says and what B lists as missed.
func TestBoxCallsBox(t *testing.T) {
	srv := startServer(t)
	cfgB := ringSettings(t, srv, "line-b", "box-b", "Box B", toneB, "line-a", "Grandma")
	cfgB.Ring.TimeoutS = 20 // longer than the ringing, answered, under load
	b := startInProcessBox(t, cfgB)
	a := startBoxA(t, srv, b)

	if did := a.act(t, "speed_dial_1"); did != "joining line-b" {
		t.Fatalf("speed dial 1 did %q", did)
	}
	st := b.ring(t, "B to ring", 20*time.Second, ringing)
	if !slices.Equal(st.Callers, []string{"Grandma"}) {
		t.Errorf("B rings for %q, want Grandma (A's line is B's contact of that name)", st.Callers)
	}
	waitText(t, b.api, "Grandma")
	if changes, _ := b.blinks(2 * time.Second); changes < 6 {
		t.Errorf("B's call LED changed %d times in 2 s of ringing, want it blinking (8)", changes)
	}
	a.ring(t, "A to hear ringing", 10*time.Second, func(st provisioning.RingStatus) bool {
		return st.State == call.Calling.String() && st.Heard == call.RingRinging && st.Callee == "Box B"
	})
	waitText(t, a.api, "Calling Box B")
	time.Sleep(3 * time.Second) // a whole ring, and a ringback
	rang := b.played(t, 3*time.Second)
	for _, hz := range pipeline.RingToneHz {
		if n := pipeline.WindowsAt(rang, hz); n < 10 {
			t.Errorf("B's speaker: the ring tone's %g Hz in %d windows of 50 ms of the last 3 s, want at least 10", hz, n)
		}
	}
	if n := pipeline.WindowsAt(a.played(t, 5*time.Second), pipeline.RingbackHz); n < 10 {
		t.Errorf("A's speaker: the ringback's %d Hz in %d windows of 50 ms of the last 5 s, want at least 10", pipeline.RingbackHz, n)
	}

	answered := time.Now()
	b.act(t, "answer")
	a.ring(t, "A in the call", 10*time.Second, func(st provisioning.RingStatus) bool { return st.State == call.InCall.String() })
	seesPictures(t, "A", a)
	t.Logf("A sees B's pictures %v after the answer", time.Since(answered).Round(time.Millisecond))
	seesPictures(t, "B", b)
	hears(t, "A", a, toneB)
	hears(t, "B", b, toneA)
	if _, lit := b.blinks(time.Second); !lit {
		t.Errorf("B's call LED is dark in the call, want it lit: the camera and microphone are open")
	}

	a.act(t, "hang_up")
	b.ring(t, "B back in its line", 15*time.Second, waiting)
	a.ring(t, "A back in its line", 15*time.Second, waiting)
	if changes, lit := b.blinks(time.Second); changes > 0 || lit {
		t.Errorf("B's call LED after the call: %d changes, lit %v; want dark", changes, lit)
	}

	// Declined.
	a.act(t, "speed_dial_1")
	b.ring(t, "B to ring again", 20*time.Second, ringing)
	b.act(t, "hang_up")
	st = a.ring(t, "A told it was declined", 10*time.Second, waiting)
	if st.Outcome != call.RingDeclined || st.OutcomeOf != "Box B" {
		t.Errorf("A's last call out: %q from %q, want declined from Box B", st.Outcome, st.OutcomeOf)
	}
	waitText(t, a.api, "Box B declined the call")
	if missed := b.ring(t, "B idle", 10*time.Second, waiting).Missed; len(missed) != 0 {
		t.Errorf("a declined call is listed as missed: %+v", missed)
	}

	// Nobody answers: B's 20 s.
	a.act(t, "speed_dial_1")
	b.ring(t, "B to ring a third time", 20*time.Second, ringing)
	rangAt := time.Now()
	st = a.ring(t, "A told nobody answered", 30*time.Second, waiting)
	if took := time.Since(rangAt); took < 19*time.Second {
		t.Errorf("the call was over %v after it rang, before B's 20 s", took)
	}
	if st.Outcome != call.RingNoAnswer {
		t.Errorf("A's last call out ended %q, want no answer", st.Outcome)
	}
	waitText(t, a.api, "Box B did not answer")
	missed := b.ring(t, "B idle", 10*time.Second, waiting).Missed
	if len(missed) != 1 || missed[0].Name != "Grandma" || missed[0].Line != "line-a" || missed[0].Why != call.RingNoAnswer {
		t.Errorf("B's missed calls: %+v, want one from Grandma (line-a), no answer", missed)
	}
}

// publications records when each participant's tracks were published, as
// a participant in the room sees them.
type publications struct {
	mu   sync.Mutex
	seen map[string][]time.Time // identity: when each track came
}

func (p *publications) of(identity string) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen[identity])
}

// watchPublications joins room as identity and records every track published.
func watchPublications(t *testing.T, srv *lkserver.Server, room, identity string) *publications {
	t.Helper()
	p := &publications{seen: map[string][]time.Time{}}
	token, err := srv.Token(room, identity)
	if err != nil {
		t.Fatal(err)
	}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackPublished = func(pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.seen[rp.Identity()] = append(p.seen[rp.Identity()], time.Now())
	}
	r, err := lksdk.ConnectToRoomWithToken(srv.URL, token, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Disconnect)
	return p
}

// serverTracks are the kinds of the tracks the LiveKit server has of
// identity in room.
func serverTracks(t *testing.T, srv *lkserver.Server, room, identity string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := lksdk.NewRoomServiceClient(srv.URL, srv.APIKey, srv.APISecret).
		GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	if err != nil {
		t.Fatalf("%s in %s: %v", identity, room, err)
	}
	var kinds []string
	for _, tr := range p.Tracks {
		kinds = append(kinds, tr.Type.String())
	}
	return kinds
}

// TestRingingBoxSendsNothing: a third participant in B's line sees no
// track of B's while A's call rings, all the time it rings; B's camera and
// microphone stay closed. Once B answers, B's camera and microphone are
// published within a second.
func TestRingingBoxSendsNothing(t *testing.T) {
	srv := startServer(t)
	cfgB := ringSettings(t, srv, "line-b", "box-b", "Box B", toneB)
	cfgB.Ring.TimeoutS = 20
	b := startInProcessBox(t, cfgB)
	a := startBoxA(t, srv, b)
	third := watchPublications(t, srv, "line-b", "third")

	a.act(t, "speed_dial_1")
	b.ring(t, "B to ring", 20*time.Second, ringing)
	rang := time.Now()
	for time.Since(rang) < 15*time.Second {
		if got := third.of("box-b"); len(got) > 0 {
			t.Fatalf("B published a track %v after it started ringing, before any answer", got[0].Sub(rang))
		}
		// A hidden participant's tracks are hidden too: the server says
		// what B publishes.
		if tracks := serverTracks(t, srv, "line-b", "box-b"); len(tracks) > 0 {
			t.Fatalf("the server has B's tracks %q %v after B started ringing, before any answer", tracks, time.Since(rang).Round(time.Millisecond))
		}
		if st := b.ring(t, "B ringing", time.Second, func(provisioning.RingStatus) bool { return true }); st.State != call.Ringing.String() {
			t.Fatalf("B stopped ringing after %v: %+v", time.Since(rang), st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if logs := b.log(); strings.Contains(logs, "sending video") || strings.Contains(logs, "sending audio") {
		t.Errorf("B opened its camera or microphone while ringing:\n%s", logs)
	}
	answered := time.Now()
	b.act(t, "answer")
	err := daemontest.Poll(5*time.Second, 10*time.Millisecond, func() error {
		if n := len(third.of("box-b")); n < 2 {
			return fmt.Errorf("%d of B's tracks published", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := third.of("box-b")
	took := slices.MaxFunc(got, time.Time.Compare).Sub(answered)
	t.Logf("B's camera and microphone published %v after the answer", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("B's tracks came %v after the answer, want within 1 s", took.Round(time.Millisecond))
	}
}

// TestDoNotDisturb: B is set to do not disturb with its action (as a
// button, a key or callboxctl would); A's call to B does not ring B (no
// ring tone on its speaker) and A's screen says B is not available; B
// lists the call as missed and its screen shows it.
func TestDoNotDisturb(t *testing.T) {
	srv := startServer(t)
	b := startProcessBox(t, ringSettings(t, srv, "line-b", "box-b", "Box B", toneB, "line-a", "Grandma"))
	a := startBoxA(t, srv, b)
	if did := b.act(t, "do_not_disturb"); !strings.Contains(did, "do not disturb on") {
		t.Fatalf("do_not_disturb did %q", did)
	}
	waitText(t, b.api, "do not disturb")

	callsNotAvailable(t, a, b)
	for _, hz := range pipeline.RingToneHz {
		if n := pipeline.WindowsAt(b.played(t, 10*time.Second), hz); n > 0 {
			t.Errorf("B played the ring tone's %g Hz for %d windows of 50 ms in do not disturb", hz, n)
		}
	}
}

// callsNotAvailable: A calls B, in do not disturb; A's screen says B is
// not available, and B lists the call as missed (from Grandma, as B knows
// A) on its local API and its screen.
func callsNotAvailable(t *testing.T, a, b *ringBox) {
	t.Helper()
	a.act(t, "speed_dial_1")
	st := a.ring(t, "A told B is not available", 20*time.Second, func(st provisioning.RingStatus) bool { return st.Outcome != "" })
	if st.Outcome != call.RingNotAvailable || st.OutcomeOf != "Box B" {
		t.Errorf("A's call to B ended %q from %q, want not available from Box B", st.Outcome, st.OutcomeOf)
	}
	waitText(t, a.api, "Box B is not available")
	missed := b.ring(t, "B idle", 10*time.Second, waiting).Missed
	if len(missed) != 1 || missed[0].Name != "Grandma" || missed[0].Why != call.RingNotAvailable {
		t.Errorf("B's missed calls: %+v, want one from Grandma, not available", missed)
	}
	waitText(t, b.api, "Missed calls")
}

// TestQuietHours: B's quiet hours (ring.quiet_hours) began a minute ago
// and end in half an hour: B is in do not disturb by itself, its screen
// and local API say until when; A's call does not ring B, A's screen says
// B is not available, and B lists the call as missed.
func TestQuietHours(t *testing.T) {
	srv := startServer(t)
	cfgB := ringSettings(t, srv, "line-b", "box-b", "Box B", toneB, "line-a", "Grandma")
	now := time.Now()
	until := now.Add(30 * time.Minute).Format("15:04")
	cfgB.Ring.QuietHours = []string{now.Add(-time.Minute).Format("15:04") + "-" + until}
	b := startProcessBox(t, cfgB)
	a := startBoxA(t, srv, b)
	if st := b.ring(t, "B idle", 10*time.Second, waiting); !st.DoNotDisturb || st.DoNotDisturbUntil != until {
		t.Errorf("B's do not disturb: %v until %q, want on until %s", st.DoNotDisturb, st.DoNotDisturbUntil, until)
	}
	waitText(t, b.api, "do not disturb until "+until)

	callsNotAvailable(t, a, b)
}

// TestAutoAnswer: B answers A (a contact in ring.auto_answer) by itself:
// its screen counts down, its speaker plays the chime, then the two are
// in one call and see each other.
func TestAutoAnswer(t *testing.T) {
	srv := startServer(t)
	cfgB := ringSettings(t, srv, "line-b", "box-b", "Box B", toneB, "line-a", "Grandma")
	cfgB.Ring.AutoAnswer, cfgB.Ring.AutoAnswerAfterS = []string{"line-a"}, 4
	b := startProcessBox(t, cfgB)
	a := startBoxA(t, srv, b)

	a.act(t, "speed_dial_1")
	b.ring(t, "B to ring", 20*time.Second, ringing)
	waitText(t, b.api, "Answering by itself in")
	a.ring(t, "A in the call", 15*time.Second, func(st provisioning.RingStatus) bool { return st.State == call.InCall.String() })
	// By B's own clock (its log), not when this test happened to look.
	rang, answered := loggedAt(t, b.log(), "ringing"), loggedAt(t, b.log(), "answering by itself")
	if took := answered.Sub(rang); took < 3900*time.Millisecond {
		t.Errorf("B answered by itself %v after it rang, before its 4 s countdown", took.Round(time.Millisecond))
	}
	if n := pipeline.WindowsAt(b.played(t, 10*time.Second), pipeline.ChimeHz[1]); n < 2 {
		t.Errorf("B's speaker: the chime's %g Hz in %d windows of 50 ms, want it heard before the answer", pipeline.ChimeHz[1], n)
	}
	seesPictures(t, "A", a)
	seesPictures(t, "B", b)
}

// TestBoxesCallEachOther: A and B call each other at the same moment;
// they end up in one call, in one line, both in it and seeing each other.
func TestBoxesCallEachOther(t *testing.T) {
	srv := startServer(t)
	b := startProcessBox(t, ringSettings(t, srv, "line-b", "box-b", "Box B", toneB, "line-a", "Box A"))
	a := startBoxA(t, srv, b)

	var wg sync.WaitGroup
	for _, box := range []*ringBox{a, b} {
		wg.Go(func() { box.act(t, "speed_dial_1") })
	}
	wg.Wait()
	inCall := func(st provisioning.RingStatus) bool { return st.State == call.InCall.String() }
	a.ring(t, "A in a call", 30*time.Second, inCall)
	b.ring(t, "B in a call", 30*time.Second, inCall)
	seesPictures(t, "A", a)
	seesPictures(t, "B", b)

	rooms := lksdk.NewRoomServiceClient(srv.URL, srv.APIKey, srv.APISecret)
	var where []string
	for _, line := range []string{"line-a", "line-b"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: line})
		cancel()
		if err != nil {
			t.Fatalf("list %s: %v", line, err)
		}
		for _, p := range resp.Participants {
			where = append(where, line+": "+p.Identity)
		}
	}
	slices.Sort(where)
	if !slices.Equal(where, []string{"line-a: box-a", "line-a: box-b"}) && !slices.Equal(where, []string{"line-b: box-a", "line-b: box-b"}) {
		t.Errorf("the boxes are in %q, want both in one line and nobody in the other", where)
	}
}

// loggedAt is when callboxd's log (slog's text) first says msg.
func loggedAt(t *testing.T, log, msg string) time.Time {
	t.Helper()
	m := regexp.MustCompile(`time=(\S+) level=\w+ msg="?` + regexp.QuoteMeta(msg) + `[" ]`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("the log never says %q:\n%s", msg, log)
	}
	at, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil {
		t.Fatalf("the log's time %q: %v", m[1], err)
	}
	return at
}
