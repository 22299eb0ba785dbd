package keys

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestPageComputesAsGo runs the guest page's own protocol code
// (web/guest/src/keys.js) in Node on the same inputs as Go: the ratchet,
// the members' check, and the transcript.
func TestPageComputesAsGo(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat("../../web/guest/node_modules/@hpke/core"); err != nil {
		t.Fatal("web/guest/node_modules is missing: run `make web`")
	}
	material := make([]byte, 32)
	for i := range material {
		material[i] = byte(i)
	}
	sigs := [][]byte{make([]byte, 32), make([]byte, 32)}
	sigs[0][0], sigs[1][0] = 9, 3
	script := `
import { ratchet, verification, transcript } from '../../web/guest/src/keys.js';
const hex = (b) => Buffer.from(b).toString('hex');
const m = Uint8Array.from({ length: 32 }, (_, i) => i);
const a = new Uint8Array(32); a[0] = 9;
const b = new Uint8Array(32); b[0] = 3;
console.log(JSON.stringify({
  ratchet: hex(await ratchet(m)),
  verification: hex(await verification('family', [a, b])),
  transcript: hex(transcript('d', 'ab', new Uint8Array([1, 2]))),
}));`
	cmd := exec.Command(node, "--input-type=module", "-e", script)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got struct{ Ratchet, Verification, Transcript string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node said %s: %v", out, err)
	}
	if want := hex.EncodeToString(ratchet(material)); got.Ratchet != want {
		t.Errorf("the page ratchets to %s, Go to %s", got.Ratchet, want)
	}
	if want := hex.EncodeToString(verification("family", sigs)); got.Verification != want {
		t.Errorf("the page's check is %s, Go's %s", got.Verification, want)
	}
	if want := hex.EncodeToString(transcript("d", []byte("ab"), []byte{1, 2})); got.Transcript != want {
		t.Errorf("the page's transcript is %s, Go's %s", got.Transcript, want)
	}
}
