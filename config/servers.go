package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ServerURLs is call.url: the call server, or the servers of a cluster in
// the order the box tries them. In the file it is one address, as it
// always was (url = "wss://calls.example.org"), or a list of them (url =
// ["wss://a.example.org", "wss://b.example.org"]); a load balancer's name
// is one address.
type ServerURLs []string

// MaxServerURLs is the most servers call.url lists.
const MaxServerURLs = 8

// errServerURLsKind is the decoder's error for a call.url that is neither
// text nor a list of texts; fileError passes it on with the line.
var errServerURLsKind = errors.New(`is neither an address in "quotes" nor a list of them (url = ["wss://a.example.org", "wss://b.example.org"])`)

// UnmarshalTOML takes one address or a list of addresses (toml.Unmarshaler).
func (u *ServerURLs) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*u = ServerURLs{v}
		return nil
	case []any:
		list := make(ServerURLs, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return errServerURLsKind
			}
			list = append(list, s)
		}
		*u = list
		return nil
	}
	return errServerURLsKind
}

// MarshalTOML writes one address as text, as the file always had it, and
// several as a list (toml.Marshaler). A JSON string is a TOML basic
// string, and a JSON list of strings a TOML array.
func (u ServerURLs) MarshalTOML() ([]byte, error) {
	if len(u) == 1 {
		return json.Marshal(u[0])
	}
	quoted := make([]string, len(u))
	for i, s := range u {
		q, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		quoted[i] = string(q)
	}
	return []byte("[" + strings.Join(quoted, ", ") + "]"), nil
}

// String is the addresses as the setup page and the flag -url take them:
// separated by ", ".
func (u ServerURLs) String() string { return strings.Join(u, ", ") }

// Set takes addresses separated by commas or spaces (flag.Value; the page's
// field too).
func (u *ServerURLs) Set(s string) error {
	*u = ParseServerURLs(s)
	return nil
}

// ParseServerURLs splits addresses separated by commas or white space.
func ParseServerURLs(s string) ServerURLs {
	list := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(list) == 0 {
		return nil
	}
	return list
}

// First is the server the box tries first, "" when none is set.
func (u ServerURLs) First() string {
	if len(u) == 0 {
		return ""
	}
	return u[0]
}

// Others are the servers after First, nil when there are none.
func (u ServerURLs) Others() []string {
	if len(u) < 2 {
		return nil
	}
	return u[1:]
}

// validate checks each address: a ws://, wss://, http:// or https:// one
// with a host, no password in it, none twice. An error names the entry
// (call.url[1]) when there are several.
func (u ServerURLs) validate(bad func(field, format string, args ...any)) {
	if len(u) == 0 {
		bad("call.url", "is empty: set the call server's address, e.g. wss://calls.example.org")
		return
	}
	if len(u) > MaxServerURLs {
		bad("call.url", "lists %d servers, at most %d", len(u), MaxServerURLs)
	}
	for i, s := range u {
		field := "call.url"
		if len(u) > 1 {
			field = fmt.Sprintf("call.url[%d]", i)
		}
		parsed, err := url.Parse(s)
		switch {
		case s == "":
			bad(field, "is empty: set the call server's address, e.g. wss://calls.example.org")
		case err == nil && parsed.User != nil, err != nil && strings.Contains(s, "@"):
			// Never quoted: the part before @ is a user and a password.
			bad(field, "has a user or password before @: the call server takes no password in its address, it authenticates the box by token (call.api_key and call.api_secret, or call.token); leave it out")
		case err != nil || parsed.Host == "" || !oneOf(parsed.Scheme, "ws", "wss", "http", "https"):
			bad(field, "%q is not a ws://, wss://, http:// or https:// address with a host", s)
		case slices.Index(u, s) < i:
			bad(field, "%q is listed a second time", s)
		}
	}
}
