package provisioning

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/callbox/callbox/config"
)

func TestContactsAreSavedAndShown(t *testing.T) {
	b := newBox(t)
	b.setUp()
	if got := b.get("/api/settings").json(t)["contacts"].([]any); len(got) != 0 {
		t.Fatalf("a new box has contacts %v", got)
	}
	st := goodSettings
	st.Contacts = []Contact{{Name: " Grandma ", Room: "grandma-flat"}, {Name: "office", Room: "office"}, {Name: "Café Ünter", Room: "cafe"}}
	b.expect(b.post("/api/settings", st), 200, "save contacts")
	saved, err := config.Load(filepath.Join(b.store.Dir(), ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"grandma-flat", "office", "cafe"}; !slices.Equal(saved.Controls.Contacts, want) {
		t.Errorf("saved rooms %q, want %q (speed dial order)", saved.Controls.Contacts, want)
	}
	if n := saved.Controls.ContactNames; n["grandma-flat"] != "Grandma" || n["cafe"] != "Café Ünter" || len(n) != 2 {
		t.Errorf("saved names %q: want the trimmed names, none for a contact named as its room", n)
	}
	view := b.get("/api/settings").json(t)["contacts"].([]any)
	if len(view) != 3 || view[0].(map[string]any)["name"] != "Grandma" || view[1].(map[string]any)["name"] != "office" {
		t.Errorf("the page is shown contacts %v", view)
	}
	if last := b.ctl.applied[len(b.ctl.applied)-1]; len(last.Config.Controls.Contacts) != 3 {
		t.Errorf("the daemon was not given the contacts")
	}

	// Settings sent without contacts keep them; an empty list clears them.
	st.Contacts = nil
	b.expect(b.post("/api/settings", st), 200, "save without contacts")
	if got := b.get("/api/settings").json(t)["contacts"].([]any); len(got) != 3 {
		t.Errorf("settings without contacts lost them: %v", got)
	}
	st.Contacts = []Contact{}
	b.expect(b.post("/api/settings", st), 200, "clear contacts")
	if saved, _ := config.Load(filepath.Join(b.store.Dir(), ConfigFile)); len(saved.Controls.Contacts) != 0 || len(saved.Controls.ContactNames) != 0 {
		t.Errorf("contacts left after clearing: %+v", saved.Controls)
	}
}

func TestBadContactsChangeNothing(t *testing.T) {
	many := make([]Contact, maxContacts+1)
	for i := range many {
		many[i] = Contact{Name: "n", Room: strings.Repeat("r", i+1)}
	}
	tests := []struct {
		name     string
		contacts any // what the page sends as "contacts"
		token    bool
		status   int
		field    string
		says     string
	}{
		{"empty name", []Contact{{Name: " ", Room: "grandma"}}, false, 400, "contacts.1.name", "is empty"},
		{"empty room", []Contact{{Name: "Grandma", Room: "grandma"}, {Name: "Office", Room: ""}}, false, 400, "contacts.2.room", "is empty"},
		{"same room twice", []Contact{{Name: "A", Room: "x"}, {Name: "B", Room: "x"}}, false, 400, "contacts.2.room", "contact 1 already"},
		{"control character", []Contact{{Name: "Gran\x07ma", Room: "grandma"}}, false, 400, "contacts.1.name", "control or text-direction characters"},
		{"newline in room", []Contact{{Name: "Grandma", Room: "a\nb"}}, false, 400, "contacts.1.room", "control or text-direction characters"},
		{"long name", []Contact{{Name: strings.Repeat("é", config.MaxNameLength+1), Room: "r"}}, false, 400, "contacts.1.name", "at most 64"},
		{"a text-direction override", []Contact{{Name: "Grandma\u202e", Room: "grandma"}}, false, 400, "contacts.1.name", "U+202E"},
		{"long room", []Contact{{Name: "n", Room: strings.Repeat("r", config.MaxRoomLength+1)}}, false, 400, "contacts.1.room", "at most 128"},
		{"too many", many, false, 400, "contacts", "at most 20"},
		{"a token cannot reach other rooms", []Contact{{Name: "Grandma", Room: "grandma"}}, true, 400, "contacts", "need call.api_key"},
		{"not a list", "grandma", false, 400, "", "contacts must be a []provisioning.Contact"},
		{"rooms as strings", []string{"grandma"}, false, 400, "", "must be a provisioning.Contact"},
		{"unknown contact field", []map[string]string{{"name": "G", "room": "g", "phone": "123"}}, false, 400, "", `phone\" is not a setting`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBox(t)
			b.setUp()
			before, asked := b.configFile(), len(b.ctl.calls())
			body := map[string]any{"name": "Kitchen", "url": goodSettings.URL, "auth": "key", "api_key": "devkey",
				"room": "family", "camera": "testpattern", "microphone": "tone", "contacts": tt.contacts}
			if tt.token {
				body["auth"], body["token"], body["api_key"] = "token", "a-token-for-one-room", ""
			}
			r := b.post("/api/settings", body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if !strings.Contains(string(r.body), tt.says) {
				t.Errorf("answer %s does not say %q", r.body, tt.says)
			}
			if tt.field != "" {
				var fields []string
				for _, f := range r.json(t)["fields"].([]any) {
					fields = append(fields, f.(map[string]any)["field"].(string))
				}
				if !slices.Contains(fields, tt.field) {
					t.Errorf("answer names fields %q, want %s", fields, tt.field)
				}
			}
			if b.configFile() != before {
				t.Errorf("the saved settings changed")
			}
			if got := b.ctl.calls(); len(got) != asked {
				t.Errorf("the daemon was asked %v", got[asked:])
			}
		})
	}
}
