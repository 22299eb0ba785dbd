package provisioning

// Unattended setup: a provisioning file, put where the box looks at boot
// (the image's boot partition, /etc/callbox/provision.toml for the Debian
// package), sets a box up as the setup page would, for a fleet set up
// without a phone each. It is the settings file (config) with two more
// tables, [admin] and [wifi]. The box takes it only while it needs
// setting up, checks all of it first, saves it through the page's own
// save (finishSetup), then deletes it; a file that fails any check leaves
// the box in first-boot setup, unchanged, with the reason on the screen
// and the page, and the file where it was.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning/wifi"
)

// ProvisionFile is a provisioning file's content.
type ProvisionFile struct {
	Config config.Config
	// AdminPassword is the setup page's admin password, in clear: the box
	// keeps only its hash. A secret, as the settings' own are.
	AdminPassword string
	// WiFi, when set, is the network the box joins once set up.
	WiFi *WiFiChoice
}

// The two tables a provisioning file has beyond the settings.
type provisionAdmin struct {
	Password string `toml:"password"`
}

type provisionWiFi struct {
	SSID       string `toml:"ssid"`
	Passphrase string `toml:"passphrase"`
}

// ParseProvisionFile reads a provisioning file and checks all of it: the
// settings as config.Parse does (an unknown setting is an error), the
// admin password as the setup page does, the Wi-Fi network as
// wpa_supplicant takes it. Errors name the line or the setting, never a
// value (config.FileError, config.FieldError).
func ParseProvisionFile(data []byte) (ProvisionFile, error) {
	var admin provisionAdmin
	var network provisionWiFi
	cfg, err := config.ParseWith(data, map[string]any{"admin": &admin, "wifi": &network})
	var errs []error
	var fileErr *config.FileError
	if errors.As(err, &fileErr) {
		return ProvisionFile{}, err // not read as settings: nothing more to check
	}
	if err != nil {
		errs = append(errs, err)
	}
	if admin.Password == "" {
		errs = append(errs, &config.FieldError{Field: "admin.password", Reason: "is empty: the setup page's admin password is needed"})
	} else if err := checkPassword(admin.Password); err != nil {
		errs = append(errs, &config.FieldError{Field: "admin.password", Reason: err.Error()})
	}
	pf := ProvisionFile{Config: cfg, AdminPassword: admin.Password}
	if network != (provisionWiFi{}) {
		if err := wifi.CheckNetwork(network.SSID, network.Passphrase); err != nil {
			errs = append(errs, &config.FieldError{Field: "wifi", Reason: err.Error()})
		}
		pf.WiFi = &WiFiChoice{SSID: network.SSID, Passphrase: network.Passphrase}
	}
	if len(errs) > 0 {
		return ProvisionFile{}, errors.Join(errs...)
	}
	return pf, nil
}

// EncodeProvisionFile writes pf as a provisioning file, after the same
// checks the box makes when it reads one (ParseProvisionFile).
func EncodeProvisionFile(pf ProvisionFile) ([]byte, error) {
	file := struct {
		Admin provisionAdmin `toml:"admin"`
		WiFi  *provisionWiFi `toml:"wifi,omitempty"`
		config.Config
	}{Admin: provisionAdmin{Password: pf.AdminPassword}, Config: pf.Config}
	if pf.WiFi != nil {
		file.WiFi = &provisionWiFi{SSID: pf.WiFi.SSID, Passphrase: pf.WiFi.Passphrase}
	}
	var buf bytes.Buffer
	buf.WriteString("# A Callbox provisioning file: a box that needs setting up takes these\n" +
		"# settings at start, then deletes this file. It holds secrets: keep it\n" +
		"# only on the cards it is for.\n")
	if err := toml.NewEncoder(&buf).Encode(file); err != nil {
		return nil, fmt.Errorf("provisioning file: %w", err)
	}
	if _, err := ParseProvisionFile(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ProvisionProblem is why the provisioning file was not taken, for the
// screen's setup card: what is wrong, by line and setting; "" when
// nothing is.
func (s *Server) ProvisionProblem() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.provisionProblem
}

// provisionNotice is the page's word on a provisioning file not taken.
func (s *Server) provisionNotice() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provisionProblem == "" {
		return ""
	}
	return fmt.Sprintf("The provisioning file %s was not used: %s. Correct it and restart the box, or set the box up here.", s.provisionFile, s.provisionProblem)
}

// Provision sets the box up from the provisioning file at path, if there
// is one and the box needs setting up, then deletes the file. A file that
// cannot be taken changes nothing: it stays, and the box stays in
// first-boot setup with the reason (ProvisionProblem, the page, the log).
// On a box already set up, the file is left alone, with a warning.
func (s *Server) Provision(ctx context.Context, path string) {
	if path == "" {
		return
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if !s.store.Boot().SetupNeeded {
		s.log.Warn("the box is set up already, so it ignores the provisioning file (a factory reset would take it); delete it: it holds secrets", "file", path)
		return
	}
	var pf ProvisionFile
	if err == nil {
		pf, err = ParseProvisionFile(data)
	}
	if err == nil {
		if bad := s.checkWiFiChoice(pf.WiFi); len(bad) > 0 {
			err = &config.FieldError{Field: "wifi", Reason: bad[0].Reason}
		}
	}
	if err == nil {
		err = s.finishSetup(withOwnIdentity(pf.Config), pf.AdminPassword, "the provisioning file "+path)
	}
	if err != nil {
		s.mu.Lock()
		s.provisionProblem, s.provisionFile = oneLine(err), path
		s.mu.Unlock()
		s.log.Error("the provisioning file was not used; the box waits for setup", "file", path, "err", oneLine(err))
		return
	}
	if err := removeDurably(path); err != nil {
		s.log.Error("the box is set up from the provisioning file but could not delete it; delete it: it holds secrets", "file", path, "err", err)
	} else {
		s.log.Info("the provisioning file is taken and deleted", "file", path)
	}
	s.ctl.Apply(s.store.Boot())
	if pf.WiFi != nil {
		if err := s.opts.WiFi.Connect(ctx, pf.WiFi.SSID, pf.WiFi.Passphrase); err != nil {
			s.log.Warn("provisioning: wifi connect failed", "ssid", pf.WiFi.SSID, "err", err)
		} else {
			s.log.Info("provisioning: wifi network chosen", "ssid", pf.WiFi.SSID)
		}
	}
}

// removeDurably deletes path and syncs its directory, so that a power cut
// right after setup does not bring the file (and its secrets) back.
func removeDurably(path string) error {
	if err := os.Remove(path); err != nil {
		return err
	}
	return config.OS.SyncDir(filepath.Dir(path))
}
