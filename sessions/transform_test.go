package sessions

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Fixed test keys. They are also the keys of the committed fuzz seeds in
// testdata/fuzz: changing them invalidates the genuine-* seed files.
var (
	tfKeyA = []byte("sessionkit test key A: 32 bytes!")
	tfKeyB = []byte("sessionkit test key B: 32 bytes!")
	tfKeyC = []byte("sessionkit test key C: 32 bytes!")
)

const tfSalt = "sessionkit test salt"

// tfAlphabet is the base64url alphabet in index order.
const tfAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// tfValue returns a deterministic value of n bytes that covers every byte
// value, including NUL, quotes and invalid UTF-8: transformers must carry
// any string, not only cookie-safe text.
func tfValue(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return string(b)
}

func tfMustMAC(t testing.TB, key []byte, older ...[]byte) Transformer {
	t.Helper()
	tr, err := MessageAuthentication(key, older...)
	if err != nil {
		t.Fatalf("MessageAuthentication: %v", err)
	}
	return tr
}

func tfMustEncrypt(t testing.TB, key []byte, older ...[]byte) Transformer {
	t.Helper()
	tr, err := Encrypt(key, older...)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return tr
}

func tfMustWrite(t testing.TB, tr Transformer, name, value string) string {
	t.Helper()
	out, err := tr.TransformWrite(name, value)
	if err != nil {
		t.Fatalf("TransformWrite(%q, %d bytes): %v", name, len(value), err)
	}
	return out
}

// tfCheckRefused fails t unless TransformRead refuses (name, value) with
// exactly ErrUntrusted, carrying no detail, and an empty result.
func tfCheckRefused(t testing.TB, tr Transformer, what, name, value string) {
	t.Helper()
	out, err := tr.TransformRead(name, value)
	switch {
	case err == nil:
		t.Errorf("%s: TransformRead accepted a tampered value (got %d bytes back)", what, len(out))
	case err != ErrUntrusted || !errors.Is(err, ErrUntrusted):
		t.Errorf("%s: TransformRead error %q, want ErrUntrusted itself", what, err)
	case out != "":
		t.Errorf("%s: TransformRead returned %d bytes with its error, want \"\"", what, len(out))
	}
}

func tfCheckReads(t testing.TB, tr Transformer, what, name, text, want string) {
	t.Helper()
	got, err := tr.TransformRead(name, text)
	if err != nil {
		t.Errorf("%s: TransformRead: %v", what, err)
	} else if got != want {
		t.Errorf("%s: TransformRead returned %q, want %q", what, got, want)
	}
}

// tfTransformers returns one transformer of each kind under the test keys.
func tfTransformers(t testing.TB) []struct {
	kind string
	tr   Transformer
} {
	return []struct {
		kind string
		tr   Transformer
	}{
		{"Digest", Digest(tfSalt)},
		{"MessageAuthentication", tfMustMAC(t, tfKeyA)},
		{"Encrypt", tfMustEncrypt(t, tfKeyA)},
	}
}

func TestTransformersRoundTripAnyValue(t *testing.T) {
	values := []string{"", "a", "hello, world", tfValue(200), "\x00\xff\"; \r\n=", tfValue(5000)}
	names := []string{"", "SESSION", "X-Session", "__Host-a b"}
	for _, tc := range tfTransformers(t) {
		t.Run(tc.kind, func(t *testing.T) {
			for _, name := range names {
				for _, v := range values {
					out := tfMustWrite(t, tc.tr, name, v)
					tfCheckReads(t, tc.tr, fmt.Sprintf("name %q, %d bytes", name, len(v)), name, out, v)
				}
			}
		})
	}
}

func TestTransformersOutputIsUnpaddedBase64URL(t *testing.T) {
	for _, tc := range tfTransformers(t) {
		t.Run(tc.kind, func(t *testing.T) {
			for n := range 40 {
				out := tfMustWrite(t, tc.tr, "S", tfValue(n))
				if i := strings.IndexFunc(out, func(r rune) bool { return !strings.ContainsRune(tfAlphabet, r) }); i >= 0 {
					t.Fatalf("%d-byte value: output byte %d (%q) is not in the base64url alphabet", n, i, out[i])
				}
				if _, err := base64.RawURLEncoding.Strict().DecodeString(out); err != nil {
					t.Fatalf("%d-byte value: output is not strict unpadded base64url: %v", n, err)
				}
			}
		})
	}
}

// tfTamper is one altered presentation of a genuine output.
type tfTamper struct {
	what  string
	value string
}

// tfTamperings returns every single-edit alteration of text the tamper
// matrix checks: each bit of each decoded byte, each bit of each base64
// character and characters outside the alphabet at each position,
// truncations at every length (of the text and of the decoded bytes),
// extensions, and non-canonical encodings of the very same bytes. It fails
// t if a case equals text, since such a case could not catch anything, and
// checks that the non-canonical cases decode to the same bytes under a
// lenient decoder, so that they test canonical decoding and nothing else.
func tfTamperings(t *testing.T, text string) []tfTamper {
	t.Helper()
	raw, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil {
		t.Fatalf("genuine output does not decode: %v", err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	var cases []tfTamper
	add := func(what, v string) {
		if v == text {
			t.Fatalf("tamper case %q equals the genuine value", what)
		}
		cases = append(cases, tfTamper{what, v})
	}
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			add(fmt.Sprintf("decoded byte %d bit %d flipped", i, bit), enc(b))
		}
	}
	for i := range len(text) {
		idx := strings.IndexByte(tfAlphabet, text[i])
		for bit := range 6 {
			c := tfAlphabet[idx^(1<<bit)]
			add(fmt.Sprintf("text char %d bit %d flipped", i, bit), text[:i]+string(c)+text[i+1:])
		}
		for _, c := range []string{"=", "+", "/", ".", " ", "\x00", "\xff", "%"} {
			add(fmt.Sprintf("text char %d replaced by %q", i, c), text[:i]+c+text[i+1:])
		}
	}
	for n := range len(text) {
		add(fmt.Sprintf("text truncated to %d", n), text[:n])
	}
	for n := range len(raw) {
		add(fmt.Sprintf("decoded truncated to %d", n), enc(raw[:n]))
	}
	for _, c := range []byte{0x00, 0x01, 0xff} {
		add(fmt.Sprintf("decoded extended by %#x", c), enc(append(bytes.Clone(raw), c)))
		add(fmt.Sprintf("decoded prefixed by %#x", c), enc(append([]byte{c}, raw...)))
	}
	for _, s := range []string{"A", "_", "=", "==", "\n", "AAAA"} {
		add(fmt.Sprintf("text extended by %q", s), text+s)
		add(fmt.Sprintf("text prefixed by %q", s), s+text)
	}

	// Non-canonical encodings of raw itself.
	lenient := func(what, v string, dec *base64.Encoding) {
		got, err := dec.DecodeString(v)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("non-canonical case %q does not decode to the genuine bytes under a lenient decoder (%v)", what, err)
		}
		add(what, v)
	}
	if unused := map[int]int{1: 4, 2: 2}[len(raw)%3]; unused > 0 {
		last := strings.IndexByte(tfAlphabet, text[len(text)-1])
		for bits := 1; bits < 1<<unused; bits++ {
			v := text[:len(text)-1] + string(tfAlphabet[last|bits])
			lenient(fmt.Sprintf("trailing bits set to %#x", bits), v, base64.RawURLEncoding)
		}
		lenient("padded", base64.URLEncoding.EncodeToString(raw), base64.URLEncoding)
	}
	for _, nl := range []string{"\n", "\r", "\r\n"} {
		for _, at := range []int{0, len(text) / 2, len(text)} {
			v := text[:at] + nl + text[at:]
			// The strict decoder skips CR and LF: only tfDecode's length
			// check stands between these and acceptance.
			lenient(fmt.Sprintf("%q inserted at %d", nl, at), v, base64.RawURLEncoding.Strict())
		}
	}
	if std := strings.NewReplacer("-", "+", "_", "/").Replace(text); std != text {
		lenient("standard alphabet", std, base64.RawStdEncoding)
	}
	return cases
}

// tfTamperMatrix writes values of several lengths (so that every residue
// of the decoded length modulo 3, hence every kind of trailing bits, is
// covered) and checks that every tampering of each is refused while the
// genuine output still reads back.
func tfTamperMatrix(t *testing.T, tr Transformer) {
	const name = "SESSION"
	for _, n := range []int{0, 1, 2, 199, 200, 201} {
		v := tfValue(n)
		text := tfMustWrite(t, tr, name, v)
		tfCheckReads(t, tr, "genuine", name, text, v)
		for _, c := range tfTamperings(t, text) {
			tfCheckRefused(t, tr, fmt.Sprintf("%d-byte value, %s", n, c.what), name, c.value)
		}
	}
}

func TestDigestTamperMatrix(t *testing.T) { tfTamperMatrix(t, Digest(tfSalt)) }
func TestMACTamperMatrix(t *testing.T)    { tfTamperMatrix(t, tfMustMAC(t, tfKeyA, tfKeyB)) }
func TestEncryptTamperMatrix(t *testing.T) {
	tfTamperMatrix(t, tfMustEncrypt(t, tfKeyA, tfKeyB))
}

// TestTransformersBindName checks that a value is only good under the name
// it was written for: swapped between two sessions, presented under a
// name that differs by case, prefix or suffix, it is refused.
func TestTransformersBindName(t *testing.T) {
	v := tfValue(200)
	for _, tc := range tfTransformers(t) {
		t.Run(tc.kind, func(t *testing.T) {
			a := tfMustWrite(t, tc.tr, "A", v)
			b := tfMustWrite(t, tc.tr, "B", v)
			tfCheckReads(t, tc.tr, "A's value as A", "A", a, v)
			tfCheckRefused(t, tc.tr, "A's value as B", "B", a)
			tfCheckRefused(t, tc.tr, "B's value as A", "A", b)
			for _, other := range []string{"", "a", "AA", "A ", " A", "A\x00", "B"} {
				tfCheckRefused(t, tc.tr, fmt.Sprintf("A's value as %q", other), other, a)
			}
		})
	}
}

// TestTransformersNameValueBoundary forges the value that would verify if
// the name and value were simply concatenated: the tag of ("ab", "c...")
// is the tag of ("a", "bc...") under that construction. The length prefix
// of the name must make it fail.
func TestTransformersNameValueBoundary(t *testing.T) {
	v := tfValue(200)
	for _, tc := range []struct {
		kind   string
		tr     Transformer
		tagLen int
	}{
		{"Digest", Digest(tfSalt), digestLen},
		{"MessageAuthentication", tfMustMAC(t, tfKeyA), macTagLen},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			raw, _ := base64.RawURLEncoding.DecodeString(tfMustWrite(t, tc.tr, "ab", "c"+v))
			tag := raw[len(raw)-tc.tagLen:]
			forged := base64.RawURLEncoding.EncodeToString(append([]byte("bc"+v), tag...))
			tfCheckRefused(t, tc.tr, "tag moved across the name/value boundary", "a", forged)
		})
	}
}

func TestDigestBindsSalt(t *testing.T) {
	v := tfValue(200)
	text := tfMustWrite(t, Digest(tfSalt), "S", v)
	for _, salt := range []string{"", "sessionkit test sal", tfSalt + " ", strings.ToUpper(tfSalt)} {
		tfCheckRefused(t, Digest(salt), fmt.Sprintf("salt %q", salt), "S", text)
	}
	// ("ab", "c") and ("a", "bc") share the bytes "abc" across the
	// salt/name boundary; the length prefixes tell them apart.
	text = tfMustWrite(t, Digest("ab"), "c", v)
	tfCheckRefused(t, Digest("a"), "salt/name boundary moved", "bc", text)
}

func TestMACWrongKeyRefused(t *testing.T) {
	text := tfMustWrite(t, tfMustMAC(t, tfKeyA), "S", tfValue(200))
	tfCheckRefused(t, tfMustMAC(t, tfKeyB), "other key", "S", text)
	tfCheckRefused(t, tfMustMAC(t, tfKeyB, tfKeyC), "ring without the key", "S", text)
	tfCheckRefused(t, tfMustEncrypt(t, tfKeyA), "same key, other transformer", "S", text)
}

func TestEncryptWrongKeyRefused(t *testing.T) {
	text := tfMustWrite(t, tfMustEncrypt(t, tfKeyA), "S", tfValue(200))
	tfCheckRefused(t, tfMustEncrypt(t, tfKeyB), "other key", "S", text)
	tfCheckRefused(t, tfMustEncrypt(t, tfKeyB, tfKeyC), "ring without the key", "S", text)
	tfCheckRefused(t, tfMustEncrypt(t, tfKeyA[:16]), "prefix of the key (AES-128)", "S", text)
	tfCheckRefused(t, tfMustMAC(t, tfKeyA), "same key, other transformer", "S", text)
}

// TestTransformersKeyRotation follows a rotation from A to B: values from
// A still read while A stays in the ring, new values are written with B
// (an A-only ring refuses them), and dropping A ends A's values.
func TestTransformersKeyRotation(t *testing.T) {
	kinds := []struct {
		kind string
		make func(t testing.TB, key []byte, older ...[]byte) Transformer
	}{
		{"MessageAuthentication", tfMustMAC},
		{"Encrypt", tfMustEncrypt},
	}
	v := tfValue(200)
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			before := k.make(t, tfKeyA)
			during := k.make(t, tfKeyB, tfKeyC, tfKeyA) // A last of three
			after := k.make(t, tfKeyB)

			old := tfMustWrite(t, before, "S", v)
			tfCheckReads(t, during, "old value during rotation", "S", old, v)
			tfCheckRefused(t, after, "old value after its key was dropped", "S", old)

			fresh := tfMustWrite(t, during, "S", v)
			tfCheckReads(t, after, "new value under the new key alone", "S", fresh, v)
			tfCheckRefused(t, before, "new value under the old key alone", "S", fresh)
			tfCheckRefused(t, k.make(t, tfKeyC), "new value under the middle key", "S", fresh)
		})
	}
}

// TestMACLayout recomputes the documented format independently:
// base64url(value || HMAC-SHA256(key, domain || len(name) || name || value)).
func TestMACLayout(t *testing.T) {
	name, v := "SESSION", tfValue(200)
	h := hmac.New(sha256.New, tfKeyA)
	h.Write([]byte(macDomain))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(name))))
	h.Write([]byte(name + v))
	want := base64.RawURLEncoding.EncodeToString(h.Sum([]byte(v)))
	if got := tfMustWrite(t, tfMustMAC(t, tfKeyA, tfKeyB), name, v); got != want {
		t.Fatalf("output differs from the documented layout\n got %s\nwant %s", got, want)
	}
}

// TestDigestLayout recomputes the documented format independently.
func TestDigestLayout(t *testing.T) {
	name, v := "SESSION", tfValue(200)
	var msg []byte
	msg = append(msg, digestDomain...)
	msg = binary.BigEndian.AppendUint64(msg, uint64(len(tfSalt)))
	msg = append(msg, tfSalt...)
	msg = binary.BigEndian.AppendUint64(msg, uint64(len(name)))
	msg = append(msg, name+v...)
	sum := sha512.Sum384(msg)
	want := base64.RawURLEncoding.EncodeToString(append([]byte(v), sum[:]...))
	if got := tfMustWrite(t, Digest(tfSalt), name, v); got != want {
		t.Fatalf("output differs from the documented layout\n got %s\nwant %s", got, want)
	}
}

// TestEncryptLayout opens an output with an independently built AES-GCM:
// base64url(nonce || ciphertext || tag), the name as associated data.
func TestEncryptLayout(t *testing.T) {
	for _, key := range [][]byte{tfKeyA[:16], tfKeyA[:24], tfKeyA} {
		name, v := "SESSION", tfValue(200)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tfMustWrite(t, tfMustEncrypt(t, key), name, v))
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != 12+len(v)+16 {
			t.Fatalf("AES-%d: %d decoded bytes, want nonce, value and tag: %d", len(key)*8, len(raw), 12+len(v)+16)
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		plain, err := aead.Open(nil, raw[:12], raw[12:], []byte(name))
		if err != nil || string(plain) != v {
			t.Fatalf("AES-%d: independent AES-GCM open with the name as associated data failed: %v", len(key)*8, err)
		}
	}
}

func TestEncryptNonceFresh(t *testing.T) {
	tr := tfMustEncrypt(t, tfKeyA)
	v := tfValue(200)
	seen := make(map[string]bool)
	for i := range 1000 {
		text := tfMustWrite(t, tr, "S", v)
		raw, _ := base64.RawURLEncoding.Strict().DecodeString(text)
		nonce := string(raw[:12])
		if seen[nonce] {
			t.Fatalf("write %d reused a nonce", i)
		}
		seen[nonce] = true
		tfCheckReads(t, tr, fmt.Sprintf("write %d", i), "S", text, v)
	}
	a, b := tfMustWrite(t, tr, "S", v), tfMustWrite(t, tr, "S", v)
	if a == b {
		t.Fatal("two writes of the same value are equal")
	}
	tfCheckReads(t, tr, "first of two", "S", a, v)
	tfCheckReads(t, tr, "second of two", "S", b, v)
}

func TestMACConstructorKeyLengths(t *testing.T) {
	k := func(n int) []byte { return bytes.Repeat([]byte{0xA5}, n) }
	tests := []struct {
		name    string
		key     []byte
		older   [][]byte
		wantErr string // "" when accepted
	}{
		{"nil key", nil, nil, "key is 0 bytes"},
		{"empty key", []byte{}, nil, "key is 0 bytes"},
		{"1-byte key", k(1), nil, "key is 1 bytes"},
		{"15-byte key", k(15), nil, "key is 15 bytes"},
		{"16-byte key", k(16), nil, ""},
		{"32-byte key", k(32), nil, ""},
		{"200-byte key", k(200), nil, ""},
		{"nil older key", k(32), [][]byte{nil}, "older[0] is 0 bytes"},
		{"empty older key", k(32), [][]byte{k(32), {}}, "older[1] is 0 bytes"},
		{"15-byte older key", k(32), [][]byte{k(16), k(32), k(15)}, "older[2] is 15 bytes"},
		{"16-byte older keys", k(32), [][]byte{k(16), k(16)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := MessageAuthentication(tt.key, tt.older...)
			tfCheckConstructor(t, tr, err, tt.wantErr, "at least 16 bytes")
		})
	}
}

func TestEncryptConstructorKeyLengths(t *testing.T) {
	k := func(n int) []byte { return bytes.Repeat([]byte{0xA5}, n) }
	tests := []struct {
		name    string
		key     []byte
		older   [][]byte
		wantErr string
	}{
		{"nil key", nil, nil, "key is 0 bytes"},
		{"15-byte key", k(15), nil, "key is 15 bytes"},
		{"16-byte key", k(16), nil, ""},
		{"20-byte key", k(20), nil, "key is 20 bytes"},
		{"24-byte key", k(24), nil, ""},
		{"31-byte key", k(31), nil, "key is 31 bytes"},
		{"32-byte key", k(32), nil, ""},
		{"33-byte key", k(33), nil, "key is 33 bytes"},
		{"64-byte key", k(64), nil, "key is 64 bytes"},
		{"mixed valid sizes", k(32), [][]byte{k(16), k(24)}, ""},
		{"nil older key", k(32), [][]byte{nil}, "older[0] is 0 bytes"},
		{"20-byte older key", k(32), [][]byte{k(16), k(20)}, "older[1] is 20 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := Encrypt(tt.key, tt.older...)
			tfCheckConstructor(t, tr, err, tt.wantErr, "16, 24 or 32 bytes")
		})
	}
}

func tfCheckConstructor(t *testing.T, tr Transformer, err error, wantErr, rule string) {
	t.Helper()
	if wantErr == "" {
		if err != nil || tr == nil {
			t.Fatalf("refused a valid ring: %v", err)
		}
		v := tfValue(100)
		tfCheckReads(t, tr, "round trip", "S", tfMustWrite(t, tr, "S", v), v)
		return
	}
	if err == nil || tr != nil {
		t.Fatalf("got (%v, %v), want a nil Transformer and an error", tr, err)
	}
	for _, want := range []string{wantErr, rule} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\xA5") || strings.Contains(err.Error(), "a5a5") {
		t.Errorf("error %q shows key material", err)
	}
}

// TestTransformersCopyKeys zeroes the caller's key slices after
// construction: values written before still read, and values written
// after still verify under the original key.
func TestTransformersCopyKeys(t *testing.T) {
	kinds := []struct {
		kind string
		make func(t testing.TB, key []byte, older ...[]byte) Transformer
	}{
		{"MessageAuthentication", tfMustMAC},
		{"Encrypt", tfMustEncrypt},
	}
	v := tfValue(200)
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			key, old := bytes.Clone(tfKeyA), bytes.Clone(tfKeyB)
			tr := k.make(t, key, old)
			byOld := tfMustWrite(t, k.make(t, tfKeyB), "S", v)
			clear(key)
			clear(old)
			tfCheckReads(t, tr, "older key after the caller zeroed it", "S", byOld, v)
			after := tfMustWrite(t, tr, "S", v)
			tfCheckReads(t, k.make(t, tfKeyA), "written after the caller zeroed the key", "S", after, v)
		})
	}
}

// TestTransformersRefuseMalformedInput feeds inputs that are not outputs
// at all; each is refused with ErrUntrusted, without a panic.
func TestTransformersRefuseMalformedInput(t *testing.T) {
	inputs := map[string]string{
		"empty":               "",
		"one char":            "A",
		"padding only":        "====",
		"shorter than tag":    strings.Repeat("A", 20),
		"one short of header": strings.Repeat("A", 37),
		"zeros, tag length":   strings.Repeat("A", 43),
		"zeros, long":         strings.Repeat("A", 400),
		"not base64":          "not base64 at all, not even close!!!!!!!!!!!!!!!!!!!!!!",
		"invalid utf-8":       strings.Repeat("\xff\xfe", 40),
		"NULs":                strings.Repeat("\x00", 64),
		"newlines only":       strings.Repeat("\n", 64),
		"impossible length":   strings.Repeat("A", 45), // 45 mod 4 == 1
		"one megabyte":        strings.Repeat("A", 1<<20),
	}
	for _, tc := range tfTransformers(t) {
		t.Run(tc.kind, func(t *testing.T) {
			for what, in := range inputs {
				for _, name := range []string{"", "S", strings.Repeat("N", 5000)} {
					tfCheckRefused(t, tc.tr, fmt.Sprintf("%s under a %d-byte name", what, len(name)), name, in)
				}
			}
		})
	}
}

// TestTransformersConcurrentUse runs writes and reads of distinct values
// from many goroutines: pooled scratch buffers shared between calls must
// never let one call see another's bytes. Run it with -race.
func TestTransformersConcurrentUse(t *testing.T) {
	for _, tc := range tfTransformers(t) {
		t.Run(tc.kind, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 200 {
						name := fmt.Sprintf("S%d", g)
						v := fmt.Sprintf("goroutine %d value %d %s", g, i, tfValue(i))
						text, err := tc.tr.TransformWrite(name, v)
						if err == nil {
							var got string
							got, err = tc.tr.TransformRead(name, text)
							if err == nil && got != v {
								err = fmt.Errorf("goroutine %d read %d: got another value back", g, i)
							}
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestTransformersNeverPrintSecrets formats each transformer with every
// common verb: the output is its description, never a key or the salt.
func TestTransformersNeverPrintSecrets(t *testing.T) {
	want := map[string]string{
		"Digest":                "sessions.Digest",
		"MessageAuthentication": "sessions.MessageAuthentication(3 keys)",
		"Encrypt":               "sessions.Encrypt(3 keys)",
	}
	trs := []struct {
		kind string
		tr   Transformer
	}{
		{"Digest", Digest(tfSalt)},
		{"MessageAuthentication", tfMustMAC(t, tfKeyA, tfKeyB, tfKeyC)},
		{"Encrypt", tfMustEncrypt(t, tfKeyA, tfKeyB, tfKeyC)},
	}
	for _, tc := range trs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
			got := fmt.Sprintf(verb, tc.tr)
			if got != want[tc.kind] {
				t.Errorf("%s formatted with %s: %q, want %q", tc.kind, verb, got, want[tc.kind])
			}
		}
		// Inside a struct, as in a logged configuration.
		got := fmt.Sprintf("%+v", struct{ T Transformer }{tc.tr})
		if got != "{T:"+want[tc.kind]+"}" {
			t.Errorf("%s inside a struct: %q", tc.kind, got)
		}
	}
}
