package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"time"
)

// box talks to a box's setup page over HTTPS as the page's own script does
// (provisioning/web/app.js): a session cookie, the CSRF token in a header,
// JSON both ways. It trusts only the certificate whose SHA-256 fingerprint
// the box logged, as a person compares it with the one on the screen.
type box struct {
	base string // https://ADDR
	http *http.Client
	csrf string
}

// boxAnswersWithin bounds one request. Under TCG on a loaded host a
// sign-in took over a minute while the box was in the call: the password's
// argon2id runs on an emulated CPU that x264 keeps busy.
const boxAnswersWithin = 5 * time.Minute

func newBox(addr, fingerprint string) (*box, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	want := strings.ToUpper(fingerprint)
	pinned := &tls.Config{
		// The box's certificate is self-signed: it is checked by its
		// fingerprint below instead of by a chain.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the box sent no certificate")
			}
			if got := certFingerprint(cs.PeerCertificates[0].Raw); got != want {
				return fmt.Errorf("the box's certificate has the fingerprint %s, its log said %s", got, want)
			}
			return nil
		},
	}
	return &box{
		base: "https://" + addr,
		http: &http.Client{Jar: jar, Timeout: boxAnswersWithin, Transport: &http.Transport{TLSClientConfig: pinned}},
	}, nil
}

// certFingerprint is a certificate's SHA-256 as browsers and the box show
// it: upper-case hex bytes joined by colons.
func certFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{b}))
	}
	return strings.Join(parts, ":")
}

// apiError is the box's answer to a request it refused.
type apiError struct {
	Status int
	Body   string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// do sends a request (body, if not nil, as JSON) and decodes a JSON answer
// into out, if not nil. Anything but 200 is an *apiError.
func (b *box) do(ctx context.Context, method, path string, body, out any) error {
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		in = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, in)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && b.csrf != "" {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %w", method, path, &apiError{Status: resp.StatusCode, Body: string(data)})
	}
	if out == nil {
		return nil
	}
	if s, ok := out.(*string); ok {
		*s = string(data)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

// boxState is the part of GET /api/state the test reads.
type boxState struct {
	SetupNeeded bool   `json:"setup_needed"`
	SignedIn    bool   `json:"signed_in"`
	Fingerprint string `json:"fingerprint"`
}

func (b *box) state(ctx context.Context) (boxState, error) {
	var s boxState
	return s, b.do(ctx, http.MethodGet, "/api/state", nil, &s)
}

// session keeps the CSRF token an answer carries ({"csrf": ...}).
func (b *box) session(ctx context.Context, path string, body any) error {
	var answer struct {
		CSRF string `json:"csrf"`
	}
	if err := b.do(ctx, http.MethodPost, path, body, &answer); err != nil {
		return err
	}
	if answer.CSRF == "" {
		return fmt.Errorf("POST %s: no CSRF token in the answer", path)
	}
	b.csrf = answer.CSRF
	return nil
}

// boxDevice is a camera or microphone the page offers.
type boxDevice struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

func (b *box) devices(ctx context.Context) (cameras, microphones []boxDevice, err error) {
	var d struct {
		Cameras     []boxDevice `json:"cameras"`
		Microphones []boxDevice `json:"microphones"`
	}
	err = b.do(ctx, http.MethodGet, "/api/devices", nil, &d)
	return d.Cameras, d.Microphones, err
}

// boxSettings are the fields of the page's settings form (provisioning's
// Settings) that the test fills in.
type boxSettings struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	Auth       string `json:"auth"`
	APIKey     string `json:"api_key"`
	APISecret  string `json:"api_secret,omitempty"`
	Room       string `json:"room"`
	Camera     string `json:"camera"`
	Microphone string `json:"microphone"`
	Codec      string `json:"codec"`
	Encryption string `json:"encryption"`
}

func (b *box) login(ctx context.Context, password string) error {
	return b.session(ctx, "/api/login", map[string]string{"password": password})
}

// settings is GET /api/settings: what the box keeps (secrets only as "is
// one set").
func (b *box) settings(ctx context.Context) (boxSettings, error) {
	var s boxSettings
	return s, b.do(ctx, http.MethodGet, "/api/settings", nil, &s)
}

// boxCall is the call's part of GET /api/status, as the page shows it.
type boxCall struct {
	State string `json:"state"`
	Error string `json:"error"`
}

// callStatus asks a signed-in box how its call is.
func (b *box) callStatus(ctx context.Context) (boxCall, error) {
	var st struct {
		Call boxCall `json:"call"`
	}
	err := b.do(ctx, http.MethodGet, "/api/status", nil, &st)
	return st.Call, err
}
