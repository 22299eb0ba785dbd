package provisioning

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// argon2Params are the cost of one password hash. 32 MiB and three passes
// take about 0.1 s on a Raspberry Pi 4 and leave room on a 512 MB Zero 2 W;
// hashing is serialised (hashMu) so parallel logins cannot exhaust memory.
type argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

var defaultArgon2 = argon2Params{Memory: 32 * 1024, Time: 3, Threads: 2}

var hashMu sync.Mutex

const (
	minPasswordLength = 8
	maxPasswordLength = 256
)

// checkPassword says what is wrong with a new admin password, in words.
func checkPassword(pw string) error {
	switch {
	case len(pw) < minPasswordLength:
		return fmt.Errorf("the password needs at least %d characters", minPasswordLength)
	case len(pw) > maxPasswordLength:
		return fmt.Errorf("the password may have at most %d characters", maxPasswordLength)
	}
	return nil
}

// hashPassword returns pw as an argon2id PHC string with a random salt.
func hashPassword(pw string, p argon2Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	hashMu.Lock()
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	hashMu.Unlock()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("the stored password hash is not an argon2id hash")

// verifyPassword checks pw against a PHC string from hashPassword, in
// constant time.
func verifyPassword(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errBadHash
	}
	var p argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 20 || p.Threads < 1 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false, errBadHash
	}
	hashMu.Lock()
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	hashMu.Unlock()
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
