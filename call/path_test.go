package call

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

func TestNoMediaPathSaysWhatToDo(t *testing.T) {
	cause := errors.New("could not connect after timeout")
	err := noMediaPath(context.Background(), "ws://10.99.0.1:7880", nil, cause)
	if !strings.HasPrefix(err.Error(), "UDP seems blocked on this network, and the call server offers no TURN relay") ||
		!errors.Is(err, cause) || explain("ws://10.99.0.1:7880", err) != err { //nolint:errorlint // the very error back, not one wrapping it
		t.Errorf("no relay: %v", err)
	}
	// A relay whose certificate the box does not trust is named with why.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveTLS(ln, selfSignedTLS(t)) // the certificate made first: under load the probe has 3 s
	err = noMediaPath(context.Background(), "ws://x", []string{"turns:" + ln.Addr().String() + "?transport=tcp"}, cause)
	if want := "TURN over TLS at " + ln.Addr().String() + ": its certificate is not trusted here"; !strings.Contains(err.Error(), want) {
		t.Errorf("untrusted relay: %v, want it to say %q", err, want)
	}
}

// selfSignedTLS is a server's TLS set-up with a certificate nobody trusts.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// serveTLS answers TLS handshakes on ln with cfg until ln closes.
func serveTLS(ln net.Listener, cfg *tls.Config) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			_ = tls.Server(conn, cfg).Handshake()
		}()
	}
}
