package pipeline_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/callbox/callbox/pipeline"
)

// listen plays packets through j as a speaker would, 10 ms at a time by
// a clock of its own that starts at start: each packet arrives delay(i)
// after it was sent (negative: lost), 20 ms apart. It returns how many
// 10 ms blocks were not played in full (gaps in the sound), and the
// target after each second.
func listen(t *testing.T, j *pipeline.JitterBuffer, packets [][]byte, start time.Time, delay func(i int) time.Duration) (gaps int, targets []time.Duration) {
	t.Helper()
	type arrival struct {
		at time.Time
		i  int
	}
	var arrivals []arrival
	for i := range packets {
		if d := delay(i); d >= 0 {
			arrivals = append(arrivals, arrival{start.Add(time.Duration(i)*20*time.Millisecond + d), i})
		}
	}
	// In arrival order: a queue keeps order, and so does the jitter here.
	out := make([]int16, 480)
	next, playing := 0, false
	end := start.Add(time.Duration(len(packets))*20*time.Millisecond + 600*time.Millisecond)
	for now, tick := start, 0; now.Before(end); now, tick = now.Add(10*time.Millisecond), tick+1 {
		for next < len(arrivals) && !arrivals[next].at.After(now) {
			a := arrivals[next]
			j.Push(pipeline.JitterPacket{Seq: uint16(a.i), Data: packets[a.i], Timestamp: uint32(960 * a.i), Arrived: a.at})
			next++
		}
		n := j.Pull(out)
		if n > 0 {
			playing = true
		}
		if playing && n < len(out) && next < len(arrivals) {
			gaps++
		}
		if tick%100 == 99 {
			targets = append(targets, time.Duration(j.Target())*time.Second/48000)
		}
	}
	return gaps, targets
}

// TestJitterBufferFollowsTheJitter: with packets arriving up to 120 ms
// apart from their pace the target grows so that the sound plays on
// without gaps, and once the jitter is gone it comes back down.
func TestJitterBufferFollowsTheJitter(t *testing.T) {
	dec, err := pipeline.NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	j := pipeline.NewJitterBuffer(dec, 2880) // 60 ms at least
	defer j.Close()
	packets := opusPackets(t, 440, 0.5, 20)
	rnd := rand.New(rand.NewPCG(3, 4))
	last := time.Duration(0)
	gaps, targets := listen(t, j, packets, time.Unix(1000, 0), func(i int) time.Duration {
		if i >= 250 { // 5 s of jitter, then a steady network
			return 20 * time.Millisecond
		}
		// 10 to 130 ms, never overtaking the packet before.
		d := time.Duration(10+rnd.IntN(120)) * time.Millisecond
		if d < last-20*time.Millisecond {
			d = last - 20*time.Millisecond
		}
		last = d
		return d
	})
	t.Logf("targets each second: %v; %d gaps", targets, gaps)
	if peak := targets[3]; peak < 100*time.Millisecond {
		t.Errorf("target %v under 120 ms of jitter, want it grown past 100 ms", peak)
	}
	if gaps > 1 {
		t.Errorf("%d gaps in the sound, want the buffer grown before more than one", gaps)
	}
	if end := targets[len(targets)-1]; end > 60*time.Millisecond {
		t.Errorf("target %v 15 s after the jitter ended, want back at 60 ms", end)
	}
}

// TestJitterBufferConcealsLoss: every tenth packet lost: the sound plays
// on without a gap, the lost ones from the next packet's FEC when it has
// it, made up by the decoder when not.
func TestJitterBufferConcealsLoss(t *testing.T) {
	for _, tt := range []struct {
		name    string
		loss    int // the encoder's idea of the loss: FEC with more than 0
		wantFEC bool
	}{{"without FEC", 0, false}, {"with FEC", 10, true}} {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := pipeline.NewOpusDecoder()
			if err != nil {
				t.Fatal(err)
			}
			j := pipeline.NewJitterBuffer(dec, 2880)
			defer j.Close()
			packets := encode(t, tt.loss, 200)
			gaps, _ := listen(t, j, packets, time.Unix(1000, 0), func(i int) time.Duration {
				if i%10 == 5 {
					return -1
				}
				return 20 * time.Millisecond
			})
			st := j.Stats()
			t.Logf("%d gaps, %+v", gaps, st)
			if gaps != 0 {
				t.Errorf("%d gaps in the sound, want none: lost packets concealed", gaps)
			}
			lost := 20 * 960
			if st.Concealed+st.FromFEC != lost {
				t.Errorf("%d samples concealed and %d from FEC, want the %d of the lost packets", st.Concealed, st.FromFEC, lost)
			}
			if fromFEC := st.FromFEC > lost/2; fromFEC != tt.wantFEC {
				t.Errorf("%d of %d lost samples from FEC, want most: %v", st.FromFEC, lost, tt.wantFEC)
			}
		})
	}
}
