package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const serversFile = `
[call]
url = %s
room = "family"
api_key = "key"
api_secret = "secret"
`

// TestServerURLsInTheFile: call.url is one address, as settings files
// always had it, or a list of a cluster's servers; each is written back
// the way it was read.
func TestServerURLsInTheFile(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  ServerURLs
	}{
		{`"ws://10.99.0.1:7880"`, ServerURLs{"ws://10.99.0.1:7880"}},
		{`["wss://a.example.org", "wss://b.example.org:7880"]`, ServerURLs{"wss://a.example.org", "wss://b.example.org:7880"}},
	} {
		t.Run(tt.value, func(t *testing.T) {
			cfg, err := Parse([]byte(strings.Replace(serversFile, "%s", tt.value, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Call.URL, tt.want) {
				t.Fatalf("call.url = %q, want %q", cfg.Call.URL, tt.want)
			}
			data, err := Encode(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), "url = "+tt.value) {
				t.Errorf("written back as:\n%s\nwant the line url = %s", data, tt.value)
			}
			again, err := Parse(data)
			if err != nil {
				t.Fatalf("what Encode wrote does not read back: %v", err)
			}
			if !reflect.DeepEqual(again.Call.URL, tt.want) {
				t.Errorf("read back as %q, want %q", again.Call.URL, tt.want)
			}
		})
	}
}

// TestBadServerURLs: each bad entry of the list is named by its place,
// and a value that is no address at all by its line.
func TestBadServerURLs(t *testing.T) {
	for _, tt := range []struct {
		value, want string
	}{
		{`["wss://a.example.org", "b.example.org"]`, `call.url[1]: "b.example.org" is not a ws://, wss://, http:// or https:// address`},
		{`["wss://a.example.org", "wss://a.example.org"]`, `call.url[1]: "wss://a.example.org" is listed a second time`},
		{`["wss://a.example.org", ""]`, `call.url[1]: is empty`},
		{`["wss://a.example.org", "wss://admin:Pw7Secret@b.example.org"]`, `call.url[1]: has a user or password before @`},
		{`[]`, `call.url: is empty`},
		{`["wss://1", "wss://2", "wss://3", "wss://4", "wss://5", "wss://6", "wss://7", "wss://8", "wss://9"]`, `call.url: lists 9 servers, at most 8`},
		{`7880`, `line 3, call.url: is neither an address in "quotes" nor a list of them`},
		{`["wss://a.example.org", 7880]`, `line 3, call.url: is neither an address in "quotes" nor a list of them`},
	} {
		t.Run(tt.value, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(serversFile, "%s", tt.value, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "Pw7") {
				t.Errorf("the error repeats the password: %v", err)
			}
			var fe *FieldError
			var fileErr *FileError
			if !errors.As(err, &fe) && !errors.As(err, &fileErr) {
				t.Errorf("%T is neither a FieldError nor a FileError", err)
			}
		})
	}
}

// TestParseServerURLs: the page's field and -url take a cluster's servers
// separated by commas or spaces, and one address as it always did.
func TestParseServerURLs(t *testing.T) {
	for in, want := range map[string]ServerURLs{
		"wss://a.example.org":                        {"wss://a.example.org"},
		" wss://a.example.org , wss://b.example.org": {"wss://a.example.org", "wss://b.example.org"},
		"wss://a.example.org wss://b.example.org":    {"wss://a.example.org", "wss://b.example.org"},
		"": nil,
	} {
		if got := ParseServerURLs(in); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseServerURLs(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (ServerURLs{"wss://a", "wss://b"}).String(); got != "wss://a, wss://b" {
		t.Errorf("String() = %q", got)
	}
	// None set (settings not checked yet) is no first and no others.
	var none ServerURLs
	if none.First() != "" || none.Others() != nil || (ServerURLs{"wss://a"}).Others() != nil {
		t.Errorf("First %q, Others %q of none", none.First(), none.Others())
	}
}
