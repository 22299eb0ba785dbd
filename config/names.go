package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The longest names taken, in characters.
const (
	MaxNameLength = 64  // a name people read: the box's (call.name), a contact's
	MaxRoomLength = 128 // a room, or the box's identity in one
)

// CheckName says what is wrong with a name people read (the box's name, a
// room, a contact): invalid UTF-8, more than max characters, or a
// character that does not show as itself (hiddenRune). Emptiness is the
// caller's to judge. The page and the settings file both go through it;
// the error never repeats the name.
func CheckName(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("has %d characters: at most %d", n, max)
	}
	if i := strings.IndexFunc(s, hiddenRune); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Errorf("may not contain control or text-direction characters (%U)", r)
	}
	return nil
}

// CleanName is a name from elsewhere (a participant's, from the network)
// made fit for a log line or the screen: what CheckName refuses taken out,
// invalid UTF-8 replaced, and cut to max characters with "…".
func CleanName(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if hiddenRune(r) {
			return -1
		}
		return r
	}, s)
	if max < 1 {
		return ""
	}
	if utf8.RuneCountInString(s) > max {
		runes := []rune(s)
		s = string(runes[:max-1]) + "…"
	}
	return s
}

// hiddenRune reports characters that do not show as themselves: controls
// (C0, DEL and C1, such as U+0085), the line and paragraph separators, and
// the bidirectional formatting characters that reorder the text around
// them (embeddings, overrides, isolates, marks).
func hiddenRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	}
	return false
}
