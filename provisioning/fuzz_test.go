package provisioning

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/callbox/callbox/config"
)

// FuzzParseConfig: any file gives settings or an error, never a crash, and
// settings that parse survive a save and a load unchanged.
func FuzzParseConfig(f *testing.F) {
	f.Add(mustEncodeF(testConfig("family")))
	f.Add([]byte("[call]\nurl = \"ws://h:1\"\ntoken = \"t\"\n"))
	f.Add([]byte("[video]\ncodec = \"h265\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data)
		if err != nil {
			return
		}
		again, err := config.Encode(cfg)
		if err != nil {
			t.Fatalf("valid settings do not encode: %v", err)
		}
		back, err := config.Parse(again)
		if err != nil {
			t.Fatalf("saved settings do not load: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(back, cfg) {
			t.Fatalf("settings changed on the way through a file:\n%+v\n%+v", cfg, back)
		}
	})
}

func mustEncodeF(c config.Config) []byte {
	data, err := config.Encode(c)
	if err != nil {
		panic(err)
	}
	return data
}

// FuzzDecodeSetup: any request body is refused with a 4xx or decoded into
// settings that either pass validation or are refused by field.
func FuzzDecodeSetup(f *testing.F) {
	f.Add([]byte(`{"password":"correct horse","settings":{"name":"Kitchen","url":"ws://10.99.0.1:7880","auth":"key","api_key":"k","api_secret":"s","room":"family","camera":"testpattern","microphone":"tone"}}`))
	f.Add([]byte(`{"password":1}`))
	f.Add([]byte(`[{}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var req setupRequest
		if err := decodeBody(bytes.NewReader(data), &req); err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.status < 400 || re.status > 499 || re.msg == "" {
				t.Fatalf("bad body %q: %v, want a 4xx with a message", data, err)
			}
			return
		}
		cfg, bad := req.Settings.apply(config.Default())
		if len(bad) == 0 {
			if err := cfg.Validate(); err != nil {
				t.Fatalf("accepted settings do not validate: %v", err)
			}
		}
		for _, fe := range bad {
			if fe.Reason == "" {
				t.Fatalf("a refusal without a reason: %+v", bad)
			}
		}
	})
}
