package v4l2m2m

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// m2m is what the encoder, decoder and scaler share: an open device, its
// two queues, and the steps of the kernel's stateful codec interface
// (dev-encoder.rst, dev-decoder.rst) that do not depend on what is coded:
// starting and restarting the CAPTURE queue, taking back OUTPUT buffers,
// waiting for a free one, the Drain sequence and closing. Each device type
// embeds it and adds the steps of its own spec.
type m2m struct {
	d       *device
	out     *queue // what goes in: raw pictures (encoder, scaler) or coded frames (decoder)
	cap     *queue // what comes out
	timeout time.Duration
	closed  bool
	// handleEvents, when set, takes the device's pending events whenever
	// a wait sees one (the decoder's source changes); waits then always
	// listen for events.
	handleEvents func() error
}

// openM2M opens path (openDevice) with its two queues.
func openM2M(path string) (m2m, error) {
	d, err := openDevice(path)
	if err != nil {
		return m2m{}, err
	}
	return m2m{d: d, out: newQueue(d, d.outType), cap: newQueue(d, d.capType), timeout: 2 * time.Second}, nil
}

// startCapture queues every CAPTURE buffer and starts the queue: the last
// step of the specs' Initialization (encoder, scaler) and Capture Setup
// (decoder).
func (m *m2m) startCapture() error {
	for i := range m.cap.bufs {
		if err := m.cap.enqueue(i, nil, unix.Timeval{}, dmabuf{}); err != nil {
			return err
		}
	}
	return m.cap.streamOn()
}

// restartCapture is STREAMOFF and STREAMON on CAPTURE, with every buffer
// queued again: the encoder spec's Reset (a new stream, which starts with
// a keyframe), and how either device leaves the Stopped state after a
// Drain. The device drops what it held in CAPTURE buffers.
func (m *m2m) restartCapture() error {
	if err := m.cap.streamOff(); err != nil {
		return err
	}
	return m.startCapture()
}

// reclaimOutput takes back every OUTPUT buffer the driver is done with.
func (m *m2m) reclaimOutput() error {
	for {
		_, ok, err := m.out.dequeue()
		if err != nil || !ok {
			return err
		}
	}
}

// await polls until one of want is ready or deadline passes, and takes on
// the way what every caller needs taken: pending events (handleEvents) and
// the OUTPUT buffers the driver is done with. It returns what is ready; on
// timeout, an error that says the device gave nothing while waiting for
// what.
func (m *m2m) await(want int, deadline time.Time, what string) (int, error) {
	if m.handleEvents != nil {
		want |= readyEvent
	}
	ready, err := m.d.wait(want, time.Until(deadline))
	if err != nil {
		return 0, err
	}
	if ready == 0 {
		return 0, m.d.wrap("waiting for "+what, errTimeout(m.timeout))
	}
	if ready&readyEvent != 0 {
		if err := m.handleEvents(); err != nil {
			return 0, err
		}
	}
	return ready, m.reclaimOutput()
}

// freeOutputBuffer returns an OUTPUT buffer the driver does not hold,
// waiting for one to come back if needed. onCapture, when not nil, is
// called whenever a CAPTURE buffer is ready while none is free (the
// encoder keeps the coded frames that come back meanwhile): a device that
// holds every OUTPUT buffer may wait for its CAPTURE queue to move.
func (m *m2m) freeOutputBuffer(onCapture func() error) (int, error) {
	want := readyOutput
	if onCapture != nil {
		want |= readyCapture
	}
	deadline := time.Now().Add(m.timeout)
	for {
		if i := m.out.free(); i >= 0 {
			return i, nil
		}
		ready, err := m.await(want, deadline, "a free OUTPUT buffer")
		if err != nil {
			return -1, err
		}
		if ready&readyCapture != 0 && m.out.free() < 0 {
			if err := onCapture(); err != nil {
				return -1, err
			}
		}
	}
}

// drain is the specs' Drain sequence: stop (V4L2_ENC_CMD_STOP or
// V4L2_DEC_CMD_STOP), then every CAPTURE buffer up to the one marked LAST
// goes to take (which copies what it keeps: the buffer is queued again
// after), then the device goes on (restartCapture). A buffer take refuses
// does not end the drain: its error is returned when the drain is done.
// The specs also allow V4L2_ENC_CMD_START / V4L2_DEC_CMD_START to go on,
// but START leaves vicodec (Linux 6.1) answering EPIPE for good, so
// restart, which works everywhere.
func (m *m2m) drain(stop func() error, take func(dequeued) error) error {
	if err := stop(); err != nil {
		return err
	}
	var refused error
	deadline := time.Now().Add(m.timeout)
	for last := false; !last; {
		if _, err := m.await(readyCapture|readyOutput, deadline, "the LAST buffer of a drain"); err != nil {
			return err
		}
		for {
			b, ok, err := m.cap.dequeue()
			if errors.Is(err, errLastBuffer) {
				last = true
				break
			}
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if err := take(b); err != nil && refused == nil {
				refused = err
			}
			if b.flags&bufFlagLast != 0 {
				last = true
				break
			}
			if err := m.cap.enqueue(b.index, nil, unix.Timeval{}, dmabuf{}); err != nil {
				return err
			}
		}
	}
	return errors.Join(refused, m.restartCapture())
}

// Close stops streaming, frees the buffers and closes the device.
func (m *m2m) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	for _, q := range []*queue{m.out, m.cap} {
		if m.d.fd >= 0 {
			errs = append(errs, q.streamOff())
		}
		errs = append(errs, q.release())
	}
	errs = append(errs, m.d.close())
	return errors.Join(errs...)
}
