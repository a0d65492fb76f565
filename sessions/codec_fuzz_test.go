package sessions

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// codecFuzzTypes are the types FuzzCompactDecode decodes into: the typical
// session, every kind, and the recursive types, whose depth comes from the
// input.
var codecFuzzTypes = []struct {
	name   string
	decode func(s string) (reencoded string, err error)
}{
	{"session", codecFuzzDecodeAs[codecSession]},
	{"kinds", codecFuzzDecodeAs[codecKinds]},
	{"node", codecFuzzDecodeAs[*codecNode]},
	{"list", codecFuzzDecodeAs[codecList]},
	{"floats", codecFuzzDecodeAs[struct {
		F32 []float32
		F64 map[int8]float64
	}]},
	{"strings", codecFuzzDecodeAs[map[string][]string]},
}

func codecFuzzDecodeAs[T any](s string) (string, error) {
	c := Compact[T]()
	v, err := c.Deserialize(s)
	if err != nil {
		return "", err
	}
	return c.Serialize(v)
}

// codecFingerprintOf returns the fingerprint of T.
func codecFingerprintOf[T any]() string {
	var zero T
	s, err := Compact[T]().Serialize(zero)
	if err != nil {
		panic(err)
	}
	return s[:codecFingerprintLen]
}

// FuzzCompactDecode feeds arbitrary text to Deserialize. It must never
// panic, and whatever decodes must re-encode to the very same text: the
// encoding is canonical. The input is tried as a whole text and, so that
// the fuzzer need not guess fingerprints, as the body after the
// fingerprint of each type.
func FuzzCompactDecode(f *testing.F) {
	f.Add("")
	f.Add("|")
	f.Add("~")
	f.Add("1|~")
	f.Add("ann@example.com|42|2|admin|editor|11767225600.5|WsM|2|apple|3|pear|12|")
	f.Add(strings.Repeat("1|", 70) + "0|")
	f.Add(strings.Repeat("&1|~0|~", 70))
	f.Add("*=5bGx55Sw|Jos*C3*A9|a+b|")
	f.Add("2|NaN|-0|2|-128|+Inf|127|1e-45|")
	fingerprints := []string{
		codecFingerprintOf[codecSession](),
		codecFingerprintOf[codecKinds](),
		codecFingerprintOf[*codecNode](),
		codecFingerprintOf[codecList](),
		codecFingerprintOf[struct {
			F32 []float32
			F64 map[int8]float64
		}](),
		codecFingerprintOf[map[string][]string](),
	}
	f.Fuzz(func(t *testing.T, body string) {
		inputs := []string{body}
		for _, fp := range fingerprints {
			inputs = append(inputs, fp+body)
		}
		for _, in := range inputs {
			for _, typ := range codecFuzzTypes {
				out, err := typ.decode(in)
				if err != nil {
					continue
				}
				if out != in {
					t.Fatalf("%s: %q decoded, but re-encodes as %q", typ.name, in, out)
				}
			}
		}
	})
}

// FuzzCompactRoundTrip builds a value from fuzzed fields, and checks that
// it encodes to the cookie-safe alphabet and decodes to an equal value.
func FuzzCompactRoundTrip(f *testing.F) {
	f.Add("ann@example.com", int64(42), uint64(7), 1.5, []byte("token"), true, int64(1767225600), int64(5e8), "apple", 3)
	f.Add("", int64(math.MinInt64), uint64(math.MaxUint64), math.NaN(), []byte(nil), false, int64(0), int64(0), "", 0)
	f.Add("Ann Smith *|+%", int64(-1), uint64(0), math.Inf(-1), []byte{}, true, int64(-1), int64(-1), " ", -1)
	f.Add("山田太郎", int64(math.MaxInt64), uint64(1), math.Copysign(0, -1), []byte{0xff}, false, int64(math.MaxInt64), int64(1), "é", math.MaxInt)
	f.Fuzz(func(t *testing.T, s string, i int64, u uint64, fl float64, b []byte, flag bool, sec, nsec int64, key string, n int) {
		tm := time.Unix(sec, nsec)
		v := codecKinds{
			B: flag, I: n, I8: int8(i), I16: int16(i), I32: int32(i), I64: i,
			U: uint(u), U8: uint8(u), U16: uint16(u), U32: uint32(u), U64: u, UP: uintptr(u),
			F32: float32(fl), F64: fl, S: s, Role: codecRole(key), Bytes: b,
			Arr: [3]int{n, -n, 0}, T: tm, D: time.Duration(i),
			Sl: []string{s, key}, M: map[string]int{s: n, key: -n}, MI: map[int64]string{i: s, -i: key},
			MU: map[uint8]bool{uint8(u): flag}, P: &n, PS: &codecInner{key, n},
			Nest: [][]codecInner{{{s, n}}, nil}, Set: map[string]struct{}{s: {}},
		}
		copy(v.BArr[:], b)
		c := Compact[codecKinds]()
		text, err := c.Serialize(v)
		if err != nil {
			// The one value Serialize refuses: a time whose Unix seconds
			// do not fit time.Unix.
			if tm.Unix() > codecMaxUnix && strings.Contains(err.Error(), "encodable range") {
				return
			}
			t.Fatalf("Serialize: %v", err)
		}
		codecCheckAlphabet(t, text)
		got, err := c.Deserialize(text)
		if err != nil {
			t.Fatalf("Deserialize(Serialize(v)): %v", err)
		}
		v.T = v.T.UTC()
		if !codecEqual(reflect.ValueOf(got), reflect.ValueOf(v)) {
			t.Fatalf("round trip changed the value:\n got %#v\nwant %#v", got, v)
		}
	})
}
