package call

import (
	_ "embed"
	"fmt"
	"strings"
)

// The fingerprint in words, for screens and people that cannot show or
// tell emoji apart: the box's built-in font is ASCII only. Each emoji of
// EmojiTable has one name, its Unicode character name in lower case
// (e2ee_emoji_names.txt, line for line with e2ee_emoji.txt), so the words
// and the emoji are the same fingerprint, and the guest page
// (web/guest/src/fingerprint.js) and the setup page show both.

// EmojiNames is the name of each emoji of EmojiTable, in the same order.
var EmojiNames = func() []string {
	var names []string
	for line := range strings.Lines(emojiNamesFile) {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if len(names) != len(EmojiTable) {
		panic(fmt.Sprintf("e2ee_emoji_names.txt has %d names for %d emoji", len(names), len(EmojiTable))) // a build mistake, not input
	}
	return names
}()

//go:embed e2ee_emoji_names.txt
var emojiNamesFile string

// FingerprintWords writes a fingerprint (four emoji separated by spaces,
// as Fingerprint and Session.Encryption give it) in words, separated by
// " / ": "tiger face / bank / cow / dvd". An emoji that is not in the
// table is written "?", so a damaged fingerprint never reads as a good one.
func FingerprintWords(fingerprint string) string {
	var words []string
	for _, e := range strings.Fields(fingerprint) {
		word := "?"
		for i, t := range EmojiTable {
			if t == e {
				word = EmojiNames[i]
				break
			}
		}
		words = append(words, word)
	}
	return strings.Join(words, " / ")
}

// FingerprintWords is the key's fingerprint in words.
func (k *RoomKey) FingerprintWords() string { return FingerprintWords(k.fingerprint) }
