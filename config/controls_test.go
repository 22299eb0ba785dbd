package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func withControls() Config {
	c := validConfig()
	c.Controls = Controls{
		StartInCall: false,
		Contacts:    []string{"grandma", "office"},
		Buttons: map[string]Button{
			"call":    {Line: "GPIO17", ActiveLow: true, Pull: "up", HoldAction: "factory_reset"},
			"hang_up": {Line: "gpiochip0:27", ActiveLow: true, Pull: "up"},
		},
		LEDs:       map[string]LED{"status": {Line: "GPIO22"}, "mute": {Line: "GPIO23", Brightness: 0.5}},
		Keys:       map[string]string{"KEY_VOLUMEUP": "volume_up", "KEY_MUTE": "mute", "KEY_1": "speed_dial_1"},
		KeyDevices: []string{"/dev/input/event0"},
	}
	return c
}

func TestControlsValidate(t *testing.T) {
	if err := withControls().Validate(); err != nil {
		t.Fatalf("good controls refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Controls)
		field  string
		says   string
	}{
		{"unknown action", func(c *Controls) { c.Buttons["dance"] = Button{Line: "GPIO5"} }, "controls.buttons.dance", `unknown action "dance"`},
		{"one line, two actions", func(c *Controls) { c.Buttons["mute"] = Button{Line: "GPIO17"} }, "controls.buttons.mute.line", "line GPIO17 is also the call button"},
		{"one line, a button and an LED", func(c *Controls) { c.LEDs["camera"] = LED{Line: "gpiochip0:27"} }, "controls.leds.camera.line", "line gpiochip0:27 is also the hang_up button"},
		{"bad line", func(c *Controls) { c.Buttons["mute"] = Button{Line: "gpiochip0:x"} }, "controls.buttons.mute.line", "offset"},
		{"no line", func(c *Controls) { c.Buttons["mute"] = Button{} }, "controls.buttons.mute.line", "empty GPIO line"},
		{"bad pull", func(c *Controls) { c.Buttons["mute"] = Button{Line: "GPIO5", Pull: "sideways"} }, "controls.buttons.mute.pull", "up, down, none"},
		{"bad hold action", func(c *Controls) { c.Buttons["mute"] = Button{Line: "GPIO5", HoldAction: "explode"} }, "controls.buttons.mute.hold_action", `"explode"`},
		{"speed dial without the contact", func(c *Controls) { c.Buttons["speed_dial_3"] = Button{Line: "GPIO5"} }, "controls.buttons.speed_dial_3", "no contact 3"},
		{"unknown LED", func(c *Controls) { c.LEDs["disco"] = LED{Line: "GPIO6"} }, "controls.leds.disco", "status, mute, camera or call"},
		{"brightness", func(c *Controls) { c.LEDs["mute"] = LED{Line: "GPIO23", Brightness: 2} }, "controls.leds.mute.brightness", "0 to 1"},
		{"unknown key name", func(c *Controls) { c.Keys["KEY_VOLUME_UP"] = "volume_up" }, "controls.keys.KEY_VOLUME_UP", `unknown key name "KEY_VOLUME_UP"`},
		{"unknown key action", func(c *Controls) { c.Keys["KEY_A"] = "jump" }, "controls.keys.KEY_A", `unknown action "jump"`},
		{"keys without devices", func(c *Controls) { c.KeyDevices = nil }, "controls.key_devices", "name the input devices"},
		{"empty contact", func(c *Controls) { c.Contacts[1] = " " }, "controls.contacts", "contact 2 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := withControls()
			tt.change(&c.Controls)
			checkFieldError(t, c.Validate(), tt.field, tt.says)
		})
	}
}

func TestContactsNeedKeyAndSecret(t *testing.T) {
	c := withControls()
	c.Call.APIKey, c.Call.APISecret, c.Call.Token = "", "", "eyJ..."
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "controls.contacts: contacts need call.api_key") {
		t.Errorf("contacts with a token: %v, want an error naming controls.contacts", err)
	}
}

func TestControlsLoadFromTOML(t *testing.T) {
	body := `
[call]
url = "ws://10.99.0.1:7880"
room = "family"
api_key = "key"
api_secret = "secret"

[controls]
start_in_call = false
contacts = ["grandma", "office"]
key_devices = ["/dev/input/event0"]

[controls.keys]
KEY_VOLUMEUP = "volume_up"
KEY_MUTE = "mute"
KEY_1 = "speed_dial_1"

[controls.buttons.call]
line = "GPIO17"
active_low = true
pull = "up"
hold_action = "factory_reset"

[controls.buttons.hang_up]
line = "gpiochip0:27"
active_low = true
pull = "up"

[controls.leds.status]
line = "GPIO22"

[controls.leds.mute]
line = "GPIO23"
brightness = 0.5
`
	path := filepath.Join(t.TempDir(), "callbox.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := withControls()
	want.Call.URL = ServerURLs{"ws://10.99.0.1:7880"}
	if !reflect.DeepEqual(got.Controls, want.Controls) {
		t.Errorf("controls loaded as\n%+v\nwant\n%+v", got.Controls, want.Controls)
	}
	// And back: what Save writes, Load reads the same.
	if err := Save(path, got); err != nil {
		t.Fatal(err)
	}
	again, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Errorf("round trip changed the controls:\n%+v\nwant\n%+v", again.Controls, got.Controls)
	}
}

func TestNoControlsByDefault(t *testing.T) {
	c := Default()
	if c.Controls.Configured() || !c.Controls.StartInCall {
		t.Errorf("default controls %+v: want none, and the box joining at start as before", c.Controls)
	}
}
