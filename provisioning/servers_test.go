package provisioning

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/callbox/callbox/config"
)

// TestSettingsWithSeveralServers: the page's one address field takes a
// cluster's servers separated by commas, saves them as call.url's list,
// shows them back as typed, names a bad entry, and one address still
// edits as it always did.
func TestSettingsWithSeveralServers(t *testing.T) {
	b := newBox(t)
	b.setUp()
	st := goodSettings
	st.URL = "ws://10.99.0.11:7880, ws://10.99.0.12:7880"
	r := b.post("/api/settings", st)
	b.expect(r, 200, "settings with two servers")
	if got := r.json(t)["url"]; got != "ws://10.99.0.11:7880, ws://10.99.0.12:7880" {
		t.Errorf("the page shows the servers as %q", got)
	}
	saved, err := config.Load(filepath.Join(b.store.Dir(), ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := (config.ServerURLs{"ws://10.99.0.11:7880", "ws://10.99.0.12:7880"}); !reflect.DeepEqual(saved.Call.URL, want) {
		t.Errorf("saved call.url = %q, want %q", saved.Call.URL, want)
	}

	st.URL = "ws://10.99.0.11:7880, 10.99.0.12"
	r = b.post("/api/settings", st)
	b.expect(r, 400, "settings with a bad second server")
	if !strings.Contains(string(r.body), `{"field":"url","reason":"\"10.99.0.12\" is not a ws://`) {
		t.Errorf("the error does not name the bad entry: %s", r.body)
	}

	st.URL = "ws://10.99.0.1:7880"
	b.expect(b.post("/api/settings", st), 200, "settings with one server again")
	if !strings.Contains(b.configFile(), `url = "ws://10.99.0.1:7880"`) {
		t.Errorf("one server is not written as one address:\n%s", b.configFile())
	}
}
