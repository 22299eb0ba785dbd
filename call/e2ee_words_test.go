package call

import (
	"strings"
	"testing"
)

func TestFingerprintWords(t *testing.T) {
	tests := []struct {
		fingerprint, want string
	}{
		{"🌰 🌱 🌲 🌳", "chestnut / seedling / evergreen tree / deciduous tree"},
		{"🐯 🏦 🐄 📀", "tiger face / bank / cow / dvd"},
		{"🌰 x 🌲", "chestnut / ? / evergreen tree"}, // not a fingerprint emoji
		{"", ""},
	}
	for _, tt := range tests {
		if got := FingerprintWords(tt.fingerprint); got != tt.want {
			t.Errorf("FingerprintWords(%q) = %q, want %q", tt.fingerprint, got, tt.want)
		}
	}
}

// Every emoji has a name of its own, in ASCII (the screen's font), so the
// words are as good a fingerprint as the emoji.
func TestEmojiNamesAreDistinctASCII(t *testing.T) {
	seen := map[string]bool{}
	for i, name := range EmojiNames {
		if seen[name] {
			t.Errorf("name %q (for %s) is used twice", name, EmojiTable[i])
		}
		seen[name] = true
		if strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r > '~' }) || strings.Contains(name, "/") {
			t.Errorf("name %q (for %s) is not plain ASCII without '/'", name, EmojiTable[i])
		}
	}
}

func TestRoomKeyFingerprintWords(t *testing.T) {
	k, err := NewRoomKey("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Split(k.FingerprintWords(), " / ")
	emoji := strings.Fields(k.Fingerprint())
	if len(words) != 4 || len(emoji) != 4 {
		t.Fatalf("fingerprint %q in words %q: want four of each", k.Fingerprint(), k.FingerprintWords())
	}
	for i := range emoji {
		for j, e := range EmojiTable {
			if e == emoji[i] && EmojiNames[j] != words[i] {
				t.Errorf("word %d is %q for %s, want %q", i, words[i], e, EmojiNames[j])
			}
		}
	}
}
