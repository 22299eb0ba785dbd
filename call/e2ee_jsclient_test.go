package call

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/callbox/callbox/media"
)

// Frames made and read by livekit-client's own FrameCryptor, run in Node by
// web/guest/e2ee-vectors.mjs: what a browser guest sends and expects.

type jsVector struct {
	Name        string `json:"name"`
	Codec       string `json:"codec"`
	FrameType   string `json:"frame_type"`
	KeyIndex    uint32 `json:"key_index"`
	Plain       string `json:"plain"`
	HeaderBytes int    `json:"header_bytes"`
	IV          string `json:"iv"`
	Encrypted   string `json:"encrypted"`
	Decrypted   string `json:"decrypted"`
}

type jsVectors struct {
	Passphrase string     `json:"passphrase"`
	Vectors    []jsVector `json:"vectors"`
}

var jsCodecs = map[string]media.Codec{"h264": media.CodecH264, "vp8": media.CodecVP8, "opus": media.CodecOpus}

func readJSVectors(t *testing.T) jsVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/e2ee/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v jsVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("testdata/e2ee/vectors.json: %v", err)
	}
	if len(v.Vectors) < 9 {
		t.Fatalf("%d vectors, want at least 9", len(v.Vectors))
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecryptsFramesOfTheJSClient: every frame livekit-client encrypted
// decrypts here to what livekit-client itself decrypts it to; and the box,
// encrypting the same frame, leaves exactly the same bytes in clear.
func TestDecryptsFramesOfTheJSClient(t *testing.T) {
	doc := readJSVectors(t)
	for _, v := range doc.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			codec := jsCodecs[v.Codec]
			key, err := newRoomKeyAt(doc.Passphrase, v.KeyIndex)
			if err != nil {
				t.Fatal(err)
			}
			opener, err := key.newOpener(codec, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsSealed := unhex(t, v.Encrypted)
			plain, err := opener.open(jsSealed)
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if want := unhex(t, v.Decrypted); !bytes.Equal(plain, want) {
				t.Fatalf("decrypted to\n%x\nwant\n%x", plain, want)
			}
			if iv := opener.ivOf(jsSealed); hex.EncodeToString(iv[:]) != v.IV {
				t.Errorf("IV read as %x, want %s", iv, v.IV)
			}

			enc, err := key.newEncryptor(codec)
			if err != nil {
				t.Fatal(err)
			}
			goSealed, err := enc.EncryptFrame(unhex(t, v.Plain))
			if err != nil {
				t.Fatal(err)
			}
			clear := v.HeaderBytes
			if codec == media.CodecH264 {
				clear = len(normalizeStartCodes(unhex(t, v.Plain)[:v.HeaderBytes]))
			}
			if !bytes.Equal(goSealed[:clear], jsSealed[:clear]) {
				t.Errorf("clear header\n%x\nwant\n%x", goSealed[:clear], jsSealed[:clear])
			}
			// Same split: the rest, unescaped, is as long in both (a byte
			// more or less in clear would show here). The box also makes the
			// start codes after the header 4 bytes long, which the JS
			// client leaves as they are.
			plainIn := unhex(t, v.Plain)
			longer := 0
			if codec == media.CodecH264 {
				longer = len(normalizeStartCodes(plainIn)) - len(plainIn) - (clear - v.HeaderBytes)
			}
			if g, j := len(media.UnescapeRBSP(goSealed[clear:])), len(media.UnescapeRBSP(jsSealed[clear:]))+longer; g != j {
				t.Errorf("%d bytes after the clear header, the JS client makes %d", g, j)
			}
			if goSealed[len(goSealed)-1] != byte(v.KeyIndex) || goSealed[len(goSealed)-2] != 12 {
				t.Errorf("trailer %x, want [12 %d]", goSealed[len(goSealed)-2:], v.KeyIndex)
			}
		})
	}
}

// TestJSClientDecryptsTheBox runs livekit-client's FrameCryptor in Node on
// frames the box encrypted.
func TestJSClientDecryptsTheBox(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	script, _ := filepath.Abs("../web/guest/e2ee-vectors.mjs")
	if _, err := os.Stat("../web/guest/node_modules/livekit-client"); err != nil {
		t.Fatal("web/guest/node_modules is missing: run `make web` (npm ci in web/guest)")
	}
	doc := readJSVectors(t)
	type goFrame struct {
		Codec     string `json:"codec"`
		FrameType string `json:"frame_type"`
		KeyIndex  uint32 `json:"key_index"`
		Encrypted string `json:"encrypted"`
	}
	in := struct {
		Passphrase string    `json:"passphrase"`
		Frames     []goFrame `json:"frames"`
	}{Passphrase: doc.Passphrase}
	var want [][]byte
	for _, v := range doc.Vectors {
		key, err := newRoomKeyAt(doc.Passphrase, v.KeyIndex)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := key.newEncryptor(jsCodecs[v.Codec])
		if err != nil {
			t.Fatal(err)
		}
		plain := unhex(t, v.Plain)
		sealed, err := enc.EncryptFrame(bytes.Clone(plain))
		if err != nil {
			t.Fatal(err)
		}
		in.Frames = append(in.Frames, goFrame{v.Codec, v.FrameType, v.KeyIndex, hex.EncodeToString(sealed)})
		if v.Codec == "h264" {
			plain = normalizeStartCodes(plain)
		}
		want = append(want, plain)
	}
	// One frame the JS side must refuse, so that a harness that accepts
	// anything fails here.
	in.Frames = append(in.Frames, goFrame{"opus", "audio", 0, in.Frames[len(in.Frames)-2].Encrypted[:40] + "00" + in.Frames[len(in.Frames)-2].Encrypted[42:]})

	file := filepath.Join(t.TempDir(), "frames.json")
	b, _ := json.Marshal(in)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, "decrypt", file)
	cmd.Dir = filepath.Dir(script)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var results []struct {
		Decrypted string `json:"decrypted"`
		Error     string `json:"error"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("node said %s: %v", out, err)
	}
	if len(results) != len(in.Frames) {
		t.Fatalf("%d results for %d frames", len(results), len(in.Frames))
	}
	for i, v := range doc.Vectors {
		if results[i].Error != "" {
			t.Errorf("%s: the JS client cannot decrypt the box's frame: %s", v.Name, results[i].Error)
			continue
		}
		if got := unhex(t, results[i].Decrypted); !bytes.Equal(got, want[i]) {
			t.Errorf("%s: the JS client decrypts the box's frame to\n%x\nwant\n%x", v.Name, got, want[i])
		}
	}
	if last := results[len(results)-1]; last.Error == "" {
		t.Errorf("the JS client took a changed frame: %s", last.Decrypted)
	}
}
