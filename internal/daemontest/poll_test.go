package daemontest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	calls := 0
	err := Poll(time.Second, time.Millisecond, func() error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("a check that passes on its third call: Poll = %v after %d calls, want nil after 3", err, calls)
	}

	notYet := errors.New("the screen does not show it")
	start := time.Now()
	err = Poll(50*time.Millisecond, 10*time.Millisecond, func() error { return notYet })
	took := time.Since(start)
	if !errors.Is(err, notYet) || !strings.Contains(err.Error(), "after 50ms") {
		t.Errorf("a check that never passes: Poll = %v, want its last error after 50ms", err)
	}
	if took < 50*time.Millisecond {
		t.Errorf("Poll gave up after %v, before its 50ms", took)
	}
}
