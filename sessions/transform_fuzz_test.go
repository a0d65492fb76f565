package sessions

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets feed arbitrary (name, value) pairs to TransformRead.
// Each checks that it never panics, that every failure is ErrUntrusted with
// an empty result, and that every success is a genuine output: the value
// is exactly what TransformWrite produces for that name and the returned
// plaintext under a key of the ring (for Encrypt, with the nonce the value
// carries). A fuzzer that finds a second string accepting for the same
// session has found malleability, and one that forges a tag has broken the
// construction; both fail.
//
// The committed seeds in testdata/fuzz/<target>/ named genuine-* are
// outputs of TransformWrite under tfKeyA, tfKeyB (an older key of the ring)
// and tfSalt, written when the format was defined. Every one must still
// read: they double as a compatibility fixture, since a change that makes
// them fail would also end every session in the field. The junk-* seeds
// are near misses (non-canonical encodings, moved names, truncations) for
// the fuzzer to start from.

// tfFuzzPair is a (name, value) input of a fuzz target.
type tfFuzzPair struct{ name, value string }

// tfFuzzSeeds adds fresh genuine outputs of write and malformed inputs to
// f, and returns the set of inputs that must read: the fresh outputs and
// the committed genuine-* seeds of target.
func tfFuzzSeeds(f *testing.F, target string, writers ...Transformer) map[tfFuzzPair]bool {
	f.Helper()
	genuine := make(map[tfFuzzPair]bool)
	for _, w := range writers {
		for _, name := range []string{"SESSION", "", "X-Session"} {
			for _, v := range []string{"", "user=ann", tfValue(64)} {
				text := tfMustWrite(f, w, name, v)
				genuine[tfFuzzPair{name, text}] = true
				f.Add(name, text)
			}
		}
	}
	for _, junk := range []string{"", "A", "====", strings.Repeat("A", 43), strings.Repeat("_", 60), "\n", "not base64"} {
		f.Add("SESSION", junk)
	}

	dir := filepath.Join("testdata", "fuzz", target)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("committed seed corpus: %v", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "genuine-") {
			continue
		}
		p, err := tfReadSeed(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatalf("seed %s: %v", e.Name(), err)
		}
		genuine[p] = true
	}
	if len(genuine) == 0 {
		f.Fatal("no genuine seeds")
	}
	return genuine
}

// tfReadSeed parses a seed file of two strings in the "go test fuzz v1"
// format.
func tfReadSeed(path string) (tfFuzzPair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tfFuzzPair{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || lines[0] != "go test fuzz v1" {
		return tfFuzzPair{}, os.ErrInvalid
	}
	var s [2]string
	for i, l := range lines[1:] {
		q, ok := strings.CutPrefix(l, "string(")
		q, ok2 := strings.CutSuffix(q, ")")
		if !ok || !ok2 {
			return tfFuzzPair{}, os.ErrInvalid
		}
		if s[i], err = strconv.Unquote(q); err != nil {
			return tfFuzzPair{}, err
		}
	}
	return tfFuzzPair{s[0], s[1]}, nil
}

// tfFuzzRead is the body shared by the targets. rewrites reports whether
// value is exactly a TransformWrite output for (name, plain).
func tfFuzzRead(t *testing.T, tr Transformer, genuine map[tfFuzzPair]bool, name, value string, rewrites func(name, plain, value string) bool) {
	plain, err := tr.TransformRead(name, value)
	if err != nil {
		if err != ErrUntrusted || plain != "" {
			t.Fatalf("failure returned (%d bytes, %v), want (\"\", ErrUntrusted)", len(plain), err)
		}
		if genuine[tfFuzzPair{name, value}] {
			t.Fatalf("a genuine output was refused")
		}
		return
	}
	if !rewrites(name, plain, value) {
		t.Fatalf("accepted a value that is not a TransformWrite output for its plaintext: name %q, value %q", name, value)
	}
}

func FuzzDigestRead(f *testing.F) {
	tr := Digest(tfSalt)
	genuine := tfFuzzSeeds(f, "FuzzDigestRead", tr)
	f.Fuzz(func(t *testing.T, name, value string) {
		tfFuzzRead(t, tr, genuine, name, value, func(name, plain, value string) bool {
			return tfMustWrite(t, tr, name, plain) == value
		})
	})
}

func FuzzMACRead(f *testing.F) {
	tr := tfMustMAC(f, tfKeyA, tfKeyB)
	byA, byB := tfMustMAC(f, tfKeyA), tfMustMAC(f, tfKeyB)
	genuine := tfFuzzSeeds(f, "FuzzMACRead", byA, byB)
	f.Fuzz(func(t *testing.T, name, value string) {
		tfFuzzRead(t, tr, genuine, name, value, func(name, plain, value string) bool {
			return tfMustWrite(t, byA, name, plain) == value || tfMustWrite(t, byB, name, plain) == value
		})
	})
}

func FuzzEncryptRead(f *testing.F) {
	tr := tfMustEncrypt(f, tfKeyA, tfKeyB)
	genuine := tfFuzzSeeds(f, "FuzzEncryptRead", tfMustEncrypt(f, tfKeyA), tfMustEncrypt(f, tfKeyB))
	f.Fuzz(func(t *testing.T, name, value string) {
		tfFuzzRead(t, tr, genuine, name, value, func(name, plain, value string) bool {
			// Seal plain again with the nonce the value carries, under
			// each key: a genuine output is reproduced byte for byte.
			raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
			if err != nil || len(raw) < encNonceLen {
				return false
			}
			nonce := raw[:encNonceLen]
			for _, aead := range tr.(*encTransformer).aeads {
				sealed := aead.Seal(bytes.Clone(nonce), nonce, []byte(plain), []byte(name))
				if base64.RawURLEncoding.EncodeToString(sealed) == value {
					return true
				}
			}
			return false
		})
	})
}
