package provisioning

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning/internal/httpserve"
)

// loadOrMakeCertificate reads the box's TLS key and certificate from the
// data directory, or makes them (ECDSA P-256, self-signed, ten years) the
// first time and after a factory reset.
func loadOrMakeCertificate(dir, name string) (tls.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, TLSKeyFile), filepath.Join(dir, TLSCertFile)
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		return cert, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		slog.Warn("the TLS certificate cannot be read; making a new one", "err", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"Callbox"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"callbox.local", "localhost"},
	}
	for _, a := range localAddresses() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(a))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := config.WriteFileAtomic(config.OS, keyPath, keyPEM); err != nil {
		return tls.Certificate{}, err
	}
	if err := config.WriteFileAtomic(config.OS, certPath, certPEM); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// fingerprint is the SHA-256 of the certificate, as browsers show it.
func fingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{b}))
	}
	return strings.Join(parts, ":")
}

// Fingerprint is the TLS certificate's SHA-256 fingerprint, for the screen
// and the page; "" before ListenAndServe or AnnounceSetup made or read it.
func (s *Server) Fingerprint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fingerprint
}

// certificate is the page's TLS certificate: read from the data directory,
// or made there the first time and after a factory reset (which clears
// s.cert). Whatever says the fingerprint asks for it first, so the
// fingerprint said is the one served.
func (s *Server) certificate() (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cert != nil {
		return s.cert, nil
	}
	cert, err := loadOrMakeCertificate(s.store.Dir(), "Callbox")
	if err != nil {
		return nil, err
	}
	s.cert = &cert
	s.fingerprint = fingerprint(cert)
	s.log.Info("TLS certificate", "sha256_fingerprint", s.fingerprint)
	return s.cert, nil
}

// ListenAndServe serves the page over HTTPS on addr until ctx ends. ready,
// if not nil, gets the address it listens on (addr may have port 0).
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	getCert := func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.certificate() }
	if _, err := s.certificate(); err != nil { // make it now, and log its fingerprint
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("provisioning page: %w", err)
	}
	s.mu.Lock()
	s.listen = ln.Addr()
	s.mu.Unlock()
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug), // TLS handshake noise from browsers that distrust the certificate
		TLSConfig: &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: getCert,
		},
	}
	return httpserve.Run(ctx, srv, 3*time.Second, func() error { return srv.ServeTLS(ln, "", "") })
}
