package compact

import (
	"math"
	"strings"
	"testing"
	"time"
)

// sessionV2 is session after a deploy: a field removed (Admin), one added
// (Theme), one retyped (ID, int64 to string), one renamed with a tag that
// pins its old key (Login), and the rest reordered.
type sessionV2 struct {
	Cart    map[string]int
	Theme   string
	Login   string `session:"User"`
	ID      string
	CSRF    [32]byte
	Expires time.Time
	Roles   []string
}

// fuzzTypes are the types FuzzDecode decodes into: the typical session and
// a later version of it, every kind, and the recursive types, whose depth
// comes from the input.
var fuzzTypes = []struct {
	name   string
	decode func(s string, exact bool) (reencoded string, err error)
}{
	{"session", fuzzDecodeAs[session]},
	{"sessionV2", fuzzDecodeAs[sessionV2]},
	{"kinds", fuzzDecodeAs[kinds]},
	{"kindsV2", fuzzDecodeAs[kindsV2]},
	{"node", fuzzDecodeAs[*node]},
	{"list", fuzzDecodeAs[list]},
	{"floats", fuzzDecodeAs[struct {
		F32 []float32
		F64 map[int8]float64
	}]},
	{"strings", fuzzDecodeAs[map[string][]string]},
}

// fuzzDecodeAs decodes s as a T and re-encodes what it read. After a lenient
// decode, the re-encoded text must decode exactly to the same value.
func fuzzDecodeAs[T any](s string, exact bool) (string, error) {
	c := For[T]()
	v, err := c.decode(s, exact)
	if err != nil {
		return "", err
	}
	out, err := c.Serialize(v)
	if err != nil {
		return "", err
	}
	again, err := c.decode(out, true)
	if err != nil || !equalValues(again, v) {
		panic("the re-encoded value does not decode exactly to itself")
	}
	return out, nil
}

// FuzzDecode feeds arbitrary text to Deserialize. It must never panic; what
// decodes exactly (no skipped field, no other kind) must re-encode to the
// very same text, as the encoding is canonical; and what decodes at all
// must re-encode to a text that decodes exactly to the same value. The
// input is tried as a whole text and after the version byte, so that the
// fuzzer need not find it.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"", "|", "~", "()", "(A=1|)", "[1|~", "{1|:a|=1|",
		"(Admin+CSRF!WsNaw1rDWsNaw1rDWsNaw1rDWsNaw1rDWsNaw1rDWsM|Cart{2|:apple|=3|:pear|=12|Expires@1767866645.123456789|ID=1234567|Roles[2|:admin|:editor|User:ann.smith@example.com|)",
		strings.Repeat("[1|", 70) + "[0|",
		strings.Repeat("&(Next", 70),
		"(User:*=5bGx55Sw|Zzz(A[2|:Jos*C3*A9|:a+b|))",
		"(F32[2|^NaN|^-0|F64{2|=-128|^+Inf|=127|^1e-45|)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, in := range []string{body, string(Version) + body} {
			for _, typ := range fuzzTypes {
				out, err := typ.decode(in, true)
				if err == nil && out != in {
					t.Fatalf("%s: %q decoded exactly, but re-encodes as %q", typ.name, in, out)
				}
				// The lenient decode checks its own invariant.
				_, _ = typ.decode(in, false)
			}
		}
	})
}

// kindsV2 is kinds after a deploy that removes, retypes, widens and
// narrows fields.
type kindsV2 struct {
	B     string  // was bool
	I     int64   // was int: widened
	I8    uint8   // was int8
	I64   int32   // was int64: narrowed
	U64   int64   // was uint64
	F32   float64 // was float32
	F64   float32 // was float64
	S     []byte  // was string
	Bytes [4]byte // was []byte
	Arr   []int   // was [3]int
	T     int64   // was time.Time
	D     int64   // was time.Duration
	Sl    []int   // was []string
	M     map[string]string
	PS    inner // was *inner
	Inner *inner
	Nest  [][]struct{ N string }
	New   string
}

// FuzzRoundTrip builds a value from fuzzed fields, and checks that it
// encodes to the cookie-safe alphabet and decodes to an equal value, and
// that a later definition of its type reads it without error.
func FuzzRoundTrip(f *testing.F) {
	f.Add("ann@example.com", int64(42), uint64(7), 1.5, []byte("token"), true, int64(1767225600), int64(5e8), "apple", 3)
	f.Add("", int64(math.MinInt64), uint64(math.MaxUint64), math.NaN(), []byte(nil), false, int64(0), int64(0), "", 0)
	f.Add("Ann Smith *|+%", int64(-1), uint64(0), math.Inf(-1), []byte{}, true, int64(-1), int64(-1), " ", -1)
	f.Add("山田太郎", int64(math.MaxInt64), uint64(1), math.Copysign(0, -1), []byte{0xff}, false, int64(math.MaxInt64), int64(1), "é", math.MaxInt)
	f.Fuzz(func(t *testing.T, s string, i int64, u uint64, fl float64, b []byte, flag bool, sec, nsec int64, key string, n int) {
		tm := time.Unix(sec, nsec)
		v := kinds{
			B: flag, I: n, I8: int8(i), I16: int16(i), I32: int32(i), I64: i,
			U: uint(u), U8: uint8(u), U16: uint16(u), U32: uint32(u), U64: u, UP: uintptr(u),
			F32: float32(fl), F64: fl, S: s, Role: role(key), Bytes: b,
			Arr: [3]int{n, -n, 0}, T: tm, D: time.Duration(i),
			Sl: []string{s, key}, M: map[string]int{s: n, key: -n}, MI: map[int64]string{i: s, -i: key},
			MU: map[uint8]bool{uint8(u): flag}, P: &n, PS: &inner{key, n},
			Nest: [][]inner{{{s, n}}, nil}, Set: map[string]struct{}{s: {}}, Tag: key,
		}
		copy(v.BArr[:], b)
		c := For[kinds]()
		text, err := c.Serialize(v)
		if err != nil {
			// The one value Serialize refuses: a time whose Unix seconds
			// do not fit time.Unix.
			if tm.Unix() > maxUnix && strings.Contains(err.Error(), "encodable range") {
				return
			}
			t.Fatalf("Serialize: %v", err)
		}
		checkAlphabet(t, text)
		got, err := c.decode(text, true)
		if err != nil {
			t.Fatalf("decode(Serialize(v)): %v", err)
		}
		v.T = v.T.UTC()
		if !equalValues(got, v) {
			t.Fatalf("round trip changed the value:\n got %#v\nwant %#v", got, v)
		}
		later, err := For[kindsV2]().Deserialize(text)
		if err != nil {
			t.Fatalf("a later definition of the type refused the text: %v", err)
		}
		if later.I != int64(n) || later.New != "" || later.B != "" || later.T != 0 {
			t.Fatalf("the later definition read %+v", later)
		}
		if wantI64 := int32(i); int64(wantI64) == i && later.I64 != wantI64 || int64(wantI64) != i && later.I64 != 0 {
			t.Fatalf("int64 %d read as int32 %d", i, later.I64)
		}
	})
}
