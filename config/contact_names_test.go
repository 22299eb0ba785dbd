package config

import (
	"strings"
	"testing"
)

func TestContactNames(t *testing.T) {
	c := Default()
	c.Call.URL, c.Call.Room, c.Call.APIKey, c.Call.APISecret = ServerURLs{"ws://10.99.0.1:7880"}, "family", "key", "secret"
	c.Controls.Contacts = []string{"grandma", "office"}
	c.Controls.ContactNames = map[string]string{"grandma": "Grandma"}
	if err := c.Validate(); err != nil {
		t.Fatalf("a named contact: %v", err)
	}
	for _, tt := range []struct {
		names map[string]string
		says  string
	}{
		{map[string]string{"cousin": "Cousin"}, `controls.contact_names.cousin: "cousin" is not one of controls.contacts`},
		{map[string]string{"office": " "}, "controls.contact_names.office: is empty"},
	} {
		c.Controls.ContactNames = tt.names
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("names %q: %v, want %q", tt.names, err, tt.says)
		}
	}
}
