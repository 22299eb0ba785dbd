package lkserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// writeTURNCertificates makes, in dir, a certificate authority and a TLS
// certificate for addr signed by it, and returns the TURN config that uses
// them and the authority's certificate file. addr is the TURN domain too:
// LiveKit takes an IPv4 address there (it checks only the characters), and
// a participant then checks the certificate's IP address, with no name to
// resolve inside the namespace.
func writeTURNCertificates(dir, addr string) (*turnConfig, string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("TURN certificate authority: %w", err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lkserver test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, "", fmt.Errorf("TURN certificate authority: %w", err)
	}
	ca, err = x509.ParseCertificate(caDER)
	if err != nil {
		return nil, "", fmt.Errorf("TURN certificate authority: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("TURN certificate: %w", err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: addr},
		IPAddresses:  []net.IP{net.ParseIP(addr)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, "", fmt.Errorf("TURN certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", fmt.Errorf("TURN certificate: %w", err)
	}
	turn := &turnConfig{
		Enabled:       true,
		Domain:        addr,
		TLSPort:       turnTLSPort,
		CertFile:      filepath.Join(dir, "turn.crt"),
		KeyFile:       filepath.Join(dir, "turn.key"),
		BindAddresses: []string{addr},
	}
	caFile := filepath.Join(dir, "ca.crt")
	for _, f := range []struct {
		path, kind string
		der        []byte
		mode       os.FileMode
	}{
		{caFile, "CERTIFICATE", caDER, 0o644},
		{turn.CertFile, "CERTIFICATE", leafDER, 0o644},
		{turn.KeyFile, "PRIVATE KEY", keyDER, 0o600},
	} {
		data := pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der})
		if err := os.WriteFile(f.path, data, f.mode); err != nil {
			return nil, "", fmt.Errorf("TURN certificate: %w", err)
		}
	}
	return turn, caFile, nil
}
