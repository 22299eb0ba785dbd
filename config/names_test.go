package config

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNamesAreCheckedAlike: every name a person reads (the box's, a room,
// the identity, a contact's room and name) is refused with control
// characters, text-direction overrides, invalid UTF-8 or an absurd length,
// and accepted with any letters, marks or emoji.
func TestNamesAreCheckedAlike(t *testing.T) {
	fields := []struct {
		field string
		set   func(*Config, string)
	}{
		{"call.name", func(c *Config, s string) { c.Call.Name = s }},
		{"call.room", func(c *Config, s string) { c.Call.Room = s }},
		{"call.identity", func(c *Config, s string) { c.Call.Identity = s }},
		{"controls.contacts", func(c *Config, s string) { c.Controls.Contacts = []string{s} }},
		{"controls.contact_names.grandma", func(c *Config, s string) {
			c.Controls.Contacts = []string{"grandma"}
			c.Controls.ContactNames = map[string]string{"grandma": s}
		}},
	}
	bad := map[string]string{
		"a tab":                    "Kitchen\tTable",
		"an escape":                "Kitchen\x1b[31m",
		"a C1 control (NEL)":       "Kitchen\u0085",
		"a right-to-left override": "Kitchen\u202egpj.exe",
		"a directional isolate":    "Kitchen\u2067",
		"a line separator":         "Kitchen\u2028Hall",
		"invalid UTF-8":            "Kitchen\xff",
		"4096 characters":          strings.Repeat("x", 4096),
	}
	good := []string{"Kitchen", "Café Ünter den Linden", "Grandma's 📞", "客厅", "غرفة المعيشة"}
	for _, f := range fields {
		for what, name := range bad {
			c := validConfig()
			f.set(&c, name)
			checkFieldError(t, c.Validate(), f.field, "")
			if err := c.Validate(); err != nil && strings.Contains(err.Error(), name) {
				t.Errorf("%s with %s: the error repeats the name: %v", f.field, what, err)
			}
		}
		for _, name := range good {
			c := validConfig()
			f.set(&c, name)
			if err := c.Validate(); err != nil {
				t.Errorf("%s %q: %v", f.field, name, err)
			}
		}
	}
}

// FuzzCheckName: a name CheckName accepts is valid UTF-8, no longer than
// allowed, holds nothing hidden, and comes back unchanged from the
// settings file; one it refuses gets a reason; and whatever CleanName
// makes of any text, CheckName accepts.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"Kitchen", "Café", "📞 Grandma", "a\tb", "x\u202ey", "\xff", "\u0085", strings.Repeat("é", 65), ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// A name from elsewhere, cleaned, is one the box would take.
		if clean := CleanName(s, MaxNameLength); CheckName(clean, MaxNameLength) != nil {
			t.Fatalf("CleanName(%q) = %q, which CheckName refuses: %v", s, clean, CheckName(clean, MaxNameLength))
		}
		err := CheckName(s, MaxNameLength)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("%q refused without a reason", s)
			}
			return
		}
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxNameLength {
			t.Fatalf("%q accepted: invalid UTF-8 or too long", s)
		}
		for _, r := range s {
			if hiddenRune(r) {
				t.Fatalf("%q accepted with %U", s, r)
			}
		}
		c := validConfig()
		c.Call.Name = s
		data, err := Encode(c)
		if err != nil {
			t.Fatalf("%q does not encode: %v", s, err)
		}
		back, err := Parse(data)
		if err != nil {
			t.Fatalf("%q does not come back from the file: %v\n%s", s, err, data)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("%q came back as %q", s, back.Call.Name)
		}
	})
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"Ada":                        "Ada",
		"Mal\x1b[2Jlory\u202e\u0085": "Mal[2Jlory",
		"bad \xff byte":              "bad \uFFFD byte",
		strings.Repeat("é", 70):      strings.Repeat("é", MaxNameLength-1) + "…",
	} {
		if got := CleanName(in, MaxNameLength); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
