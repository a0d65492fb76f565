package sessions

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// codecSession is the typical session value of the brief, used by the size
// test, the benchmarks and the fuzz targets.
type codecSession struct {
	User    string
	ID      int64
	Roles   []string
	Admin   bool
	Expires time.Time
	CSRF    []byte
	Cart    map[string]int
}

type codecInner struct {
	Name string
	N    int
}

type codecEmbedded struct {
	FromUnexported string
	At             time.Time
}

type codecByte uint8

// CodecExported is embedded under an exported name.
type CodecExported struct{ FromExported int }

type codecRole string

// codecKinds holds every supported kind, so that one value exercises the
// whole codec.
type codecKinds struct {
	B     bool
	I     int
	I8    int8
	I16   int16
	I32   int32
	I64   int64
	U     uint
	U8    uint8
	U16   uint16
	U32   uint32
	U64   uint64
	UP    uintptr
	F32   float32
	F64   float64
	S     string
	Role  codecRole
	Bytes []byte
	Arr   [3]int
	BArr  [5]byte
	T     time.Time
	D     time.Duration
	Sl    []string
	M     map[string]int
	MI    map[int64]string
	MU    map[uint8]bool
	P     *int
	PP    **string
	PS    *codecInner
	Inner codecInner
	Nest  [][]codecInner
	Set   map[string]struct{}
	codecEmbedded
	CodecExported
	hidden int //nolint:unused // proves unexported fields are skipped
}

// codecNode is a recursive type: a list through a pointer and a tree
// through a slice and a map.
type codecNode struct {
	V        int
	Next     *codecNode
	Kids     []codecNode
	Children map[string]*codecNode
}

// codecList nests through slices alone.
type codecList []codecList

// codecAlphabet is the output alphabet as the brief spells it, written out
// independently of the codec's own table.
const codecAlphabet = "!#$&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"

func codecCheckAlphabet(t testing.TB, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(codecAlphabet, s[i]) < 0 {
			t.Fatalf("output byte %d is %q, outside the cookie-safe alphabet", i, s[i])
		}
	}
}

// codecEqual is reflect.DeepEqual except that NaN equals NaN, so that
// round trips of NaN can be checked.
func codecEqual(a, b reflect.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y)
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return codecEqual(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !codecEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		it := a.MapRange()
		for it.Next() {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !codecEqual(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if a.Type() == codecTimeType {
			return reflect.DeepEqual(a.Interface(), b.Interface())
		}
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() && !codecEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// codecRoundTrip encodes in, checks the alphabet, decodes, and compares
// with want (in, after the codec's documented normalisations).
func codecRoundTrip[T any](t testing.TB, in, want T) string {
	t.Helper()
	c := Compact[T]()
	s, err := c.Serialize(in)
	if err != nil {
		t.Fatalf("Serialize: %v", err)
	}
	codecCheckAlphabet(t, s)
	got, err := c.Deserialize(s)
	if err != nil {
		t.Fatalf("Deserialize(Serialize(v)): %v", err)
	}
	if !codecEqual(reflect.ValueOf(&got).Elem(), reflect.ValueOf(&want).Elem()) {
		t.Fatalf("round trip changed the value:\n got %#v\nwant %#v", got, want)
	}
	again, err := c.Serialize(got)
	if err != nil || again != s {
		t.Fatalf("re-encoding the decoded value gave a different text (err %v)", err)
	}
	return s
}

// codecSame is a round-trip case whose value comes back unchanged.
func codecSame[T any](v T) func(*testing.T) {
	return func(t *testing.T) { codecRoundTrip(t, v, v) }
}

// codecAs is a round-trip case whose value comes back normalised as want.
func codecAs[T any](in, want T) func(*testing.T) {
	return func(t *testing.T) { codecRoundTrip(t, in, want) }
}

func codecAllBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func codecPtr[T any](v T) *T { return &v }

func codecFill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// codecFullValue returns a codecKinds with every field set.
func codecFullValue() codecKinds {
	s := "pointed to"
	ps := &s
	return codecKinds{
		B: true, I: -1, I8: math.MinInt8, I16: math.MaxInt16, I32: math.MinInt32, I64: math.MaxInt64,
		U: 7, U8: math.MaxUint8, U16: 300, U32: math.MaxUint32, U64: math.MaxUint64, UP: 12345,
		F32: -1.5, F64: math.Pi, S: "Ann Smith <ann+tag@example.com>", Role: "admin",
		Bytes: []byte{0, 1, 2, 0xff}, Arr: [3]int{-1, 0, 1}, BArr: [5]byte{'h', 'e', 'l', 'l', 'o'},
		T: time.Date(2026, 1, 1, 12, 30, 0, 123456789, time.UTC), D: -90 * time.Minute,
		Sl: []string{"a", "", "c"}, M: map[string]int{"b": 2, "a": 1, "": 0}, MI: map[int64]string{-5: "minus", 5: "plus"},
		MU: map[uint8]bool{0: false, 255: true}, P: codecPtr(42), PP: &ps, PS: &codecInner{"x", 1},
		Inner: codecInner{"inner", -2}, Nest: [][]codecInner{nil, {}, {{"n", 3}}}, Set: map[string]struct{}{"k": {}},
		codecEmbedded: codecEmbedded{"promoted", time.Unix(1e9, 1).UTC()}, CodecExported: CodecExported{9},
	}
}

func TestCompactRoundTrip(t *testing.T) {
	now := time.Now()
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"bool false", codecSame(false)},
		{"bool true", codecSame(true)},
		{"int zero", codecSame(0)},
		{"int negative", codecSame(-42)},
		{"int min", codecSame(math.MinInt)},
		{"int max", codecSame(math.MaxInt)},
		{"int8 min", codecSame(int8(math.MinInt8))},
		{"int8 max", codecSame(int8(math.MaxInt8))},
		{"int16 min", codecSame(int16(math.MinInt16))},
		{"int16 max", codecSame(int16(math.MaxInt16))},
		{"int32 min", codecSame(int32(math.MinInt32))},
		{"int32 max", codecSame(int32(math.MaxInt32))},
		{"int64 min", codecSame(int64(math.MinInt64))},
		{"int64 max", codecSame(int64(math.MaxInt64))},
		{"uint max", codecSame(uint(math.MaxUint))},
		{"uint8 max", codecSame(uint8(math.MaxUint8))},
		{"uint16 max", codecSame(uint16(math.MaxUint16))},
		{"uint32 max", codecSame(uint32(math.MaxUint32))},
		{"uint64 max", codecSame(uint64(math.MaxUint64))},
		{"uint64 zero", codecSame(uint64(0))},
		{"uintptr", codecSame(uintptr(0xdeadbeef))},
		{"float64 zero", codecSame(0.0)},
		{"float64 negative zero", codecSame(math.Copysign(0, -1))},
		{"float64 fraction", codecSame(-0.1)},
		{"float64 max", codecSame(math.MaxFloat64)},
		{"float64 smallest subnormal", codecSame(math.SmallestNonzeroFloat64)},
		{"float64 NaN", codecSame(math.NaN())},
		{"float64 +Inf", codecSame(math.Inf(1))},
		{"float64 -Inf", codecSame(math.Inf(-1))},
		{"float32 fraction", codecSame(float32(0.1))},
		{"float32 max", codecSame(float32(math.MaxFloat32))},
		{"float32 smallest subnormal", codecSame(float32(math.SmallestNonzeroFloat32))},
		{"float32 NaN", codecSame(float32(math.NaN()))},
		{"float32 -Inf", codecSame(float32(math.Inf(-1)))},
		{"string empty", codecSame("")},
		{"string word", codecSame("hello")},
		{"string email", codecSame("ann.smith+tag@example.com")},
		{"string spaces", codecSame(" two  spaces ")},
		{"string codec specials", codecSame("*|+~&=*=")},
		{"string cookie specials", codecSame(`a"b,c;d\e%f`)},
		{"string latin unicode", codecSame("José García")},
		{"string CJK", codecSame("山田太郎")},
		{"string emoji", codecSame("🍪 cookie")},
		{"string invalid UTF-8", codecSame("\xff\xfe\x00")},
		{"string every byte", codecSame(string(codecAllBytes()))},
		{"string long base64", codecSame(strings.Repeat("日本", 100))},
		{"named string", codecSame(codecRole("editor"))},
		{"bytes nil", codecSame([]byte(nil))},
		{"bytes empty", codecSame([]byte{})},
		{"bytes one", codecSame([]byte{0xff})},
		{"bytes two", codecSame([]byte{0, 0xff})},
		{"bytes three", codecSame([]byte{1, 2, 3})},
		{"bytes every byte", codecSame(codecAllBytes())},
		{"named byte slice", codecSame([]codecByte{1, 2, 3})},
		{"named byte array", codecSame([2]codecByte{0xff, 0})},
		{"byte array empty", codecSame([0]byte{})},
		{"byte array one", codecSame([1]byte{0x80})},
		{"byte array 32", codecSame([32]byte{31: 1})},
		{"time zero", codecSame(time.Time{})},
		{"time epoch", codecSame(time.Unix(0, 0).UTC())},
		{"time now, normalised", codecAs(now, now.Round(0).UTC())},
		{"time other zone, normalised", codecAs(time.Date(2026, 3, 1, 10, 0, 0, 1, paris), time.Date(2026, 3, 1, 9, 0, 0, 1, time.UTC))},
		{"time before 1970 with nanoseconds", codecSame(time.Date(1969, 12, 31, 23, 59, 59, 250000000, time.UTC))},
		{"time year 1 plus a nanosecond", codecSame(time.Time{}.Add(1))},
		{"time far past", codecSame(time.Date(-100000, 1, 1, 0, 0, 0, 0, time.UTC))},
		{"time far future", codecSame(time.Date(100000, 1, 1, 0, 0, 0, 999999999, time.UTC))},
		{"duration min", codecSame(time.Duration(math.MinInt64))},
		{"duration max", codecSame(time.Duration(math.MaxInt64))},
		{"slice nil", codecSame([]int(nil))},
		{"slice empty", codecSame([]int{})},
		{"slice values", codecSame([]int{3, -1, 0})},
		{"slice of slices", codecSame([][]string{nil, {}, {"a", "b"}})},
		{"array", codecSame([4]int16{1, -2, 3, -4})},
		{"array of arrays", codecSame([2][2]bool{{true, false}, {false, true}})},
		{"map nil", codecSame(map[string]int(nil))},
		{"map empty", codecSame(map[string]int{})},
		{"map string keys", codecSame(map[string]int{"pear": 12, "apple": 3, "": -1, "Ann Smith": 0})},
		{"map int keys", codecSame(map[int]string{-10: "a", 0: "b", 10: "c", math.MinInt: "min", math.MaxInt: "max"})},
		{"map uint8 keys", codecSame(map[uint8][]byte{0: nil, 1: {}, 255: {1}})},
		{"map named keys", codecSame(map[codecRole]bool{"admin": true, "user": false})},
		{"map set", codecSame(map[string]struct{}{"x": {}, "y": {}})},
		{"map of maps", codecSame(map[string]map[int]int{"a": {1: 1}, "b": nil, "c": {}})},
		{"pointer nil", codecSame((*int)(nil))},
		{"pointer to zero", codecSame(codecPtr(0))},
		{"pointer to pointer", codecSame(codecPtr(codecPtr("x")))},
		{"pointer to nil pointer", codecSame(codecPtr((*string)(nil)))},
		{"pointer to struct", codecSame(&codecInner{"a", 1})},
		{"empty struct", codecSame(struct{}{})},
		{"struct zero value", codecSame(codecKinds{})},
		{"struct every kind", codecSame(codecFullValue())},
		{"session", codecSame(codecSession{
			User: "ann@example.com", ID: 1234567, Roles: []string{"admin", "editor"}, Admin: true,
			Expires: time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC), CSRF: bytes.Repeat([]byte{0xa5}, 32),
			Cart: map[string]int{"apple": 3, "pear": 12},
		})},
		{"recursive list", codecSame(&codecNode{V: 1, Next: &codecNode{V: 2, Next: &codecNode{V: 3}}})},
		{"recursive tree", codecSame(codecNode{Kids: []codecNode{{V: 1}, {V: 2, Kids: []codecNode{{V: 3}}}},
			Children: map[string]*codecNode{"a": {V: 4}, "nil": nil}})},
		{"recursive slices", codecSame(codecList{nil, {}, {{}, {nil}}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestCompactSkipsUnexportedFields(t *testing.T) {
	c := Compact[codecKinds]()
	s, err := c.Serialize(codecKinds{hidden: 7})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := c.Serialize(codecKinds{})
	if s != want {
		t.Fatal("an unexported field changed the encoding")
	}
	got, err := c.Deserialize(s)
	if err != nil || got.hidden != 0 {
		t.Fatalf("got hidden=%d, err %v; want 0, nil", got.hidden, err)
	}
}

// TestCompactEncodesAsDocumented pins the grammar written in Compact's doc
// comment, text after the fingerprint.
func TestCompactEncodesAsDocumented(t *testing.T) {
	type doc struct {
		User  string
		ID    int64
		Roles []string
		Admin bool
	}
	tests := []struct {
		name string
		enc  func() (string, error)
		want string
	}{
		{"doc example", func() (string, error) {
			return Compact[doc]().Serialize(doc{"ann@example.com", 42, []string{"admin"}, true})
		}, "ann@example.com|42|1|admin|1"},
		{"bool", func() (string, error) { return Compact[[2]bool]().Serialize([2]bool{false, true}) }, "01"},
		{"negative int", func() (string, error) { return Compact[int8]().Serialize(-12) }, "-12|"},
		{"uint", func() (string, error) { return Compact[uint64]().Serialize(math.MaxUint64) }, "18446744073709551615|"},
		{"duration", func() (string, error) { return Compact[time.Duration]().Serialize(time.Second) }, "1000000000|"},
		{"float half", func() (string, error) { return Compact[float64]().Serialize(0.5) }, "0.5|"},
		{"float negative zero", func() (string, error) { return Compact[float64]().Serialize(math.Copysign(0, -1)) }, "-0|"},
		{"float exponent", func() (string, error) { return Compact[float64]().Serialize(1e21) }, "1e+21|"},
		{"float NaN", func() (string, error) { return Compact[float32]().Serialize(float32(math.NaN())) }, "NaN|"},
		{"float +Inf", func() (string, error) { return Compact[float64]().Serialize(math.Inf(1)) }, "+Inf|"},
		{"float32 shortest", func() (string, error) { return Compact[float32]().Serialize(0.1) }, "0.1|"},
		{"string space", func() (string, error) { return Compact[string]().Serialize("Ann Smith") }, "Ann+Smith|"},
		{"string plus", func() (string, error) { return Compact[string]().Serialize("a+b") }, "a*2Bb|"},
		{"string star and bar", func() (string, error) { return Compact[string]().Serialize("a*|b") }, "a*2A*7Cb|"},
		{"string latin", func() (string, error) { return Compact[string]().Serialize("José") }, "Jos*C3*A9|"},
		{"string latin, base64 shorter", func() (string, error) { return Compact[string]().Serialize("é") }, "*=w6k|"},
		{"string CJK as base64", func() (string, error) { return Compact[string]().Serialize("山田") }, "*=5bGx55Sw|"},
		{"string empty", func() (string, error) { return Compact[string]().Serialize("") }, "|"},
		{"bytes nil", func() (string, error) { return Compact[[]byte]().Serialize(nil) }, "~"},
		{"bytes empty", func() (string, error) { return Compact[[]byte]().Serialize([]byte{}) }, "|"},
		{"bytes", func() (string, error) { return Compact[[]byte]().Serialize([]byte{0xfb, 0xff}) }, "-_8|"},
		{"byte array", func() (string, error) { return Compact[[2]byte]().Serialize([2]byte{0xfb, 0xff}) }, "-_8"},
		{"time zero", func() (string, error) { return Compact[time.Time]().Serialize(time.Time{}) }, "|"},
		{"time whole second", func() (string, error) { return Compact[time.Time]().Serialize(time.Unix(1767225600, 0)) }, "1767225600|"},
		{"time fraction", func() (string, error) { return Compact[time.Time]().Serialize(time.Unix(1767225600, 5e8)) }, "1767225600.5|"},
		{"time before 1970", func() (string, error) { return Compact[time.Time]().Serialize(time.Unix(0, -75e7)) }, "-1.25|"},
		{"pointer nil", func() (string, error) { return Compact[*int]().Serialize(nil) }, "~"},
		{"pointer", func() (string, error) { return Compact[*int]().Serialize(codecPtr(7)) }, "&7|"},
		{"slice nil", func() (string, error) { return Compact[[]string]().Serialize(nil) }, "~"},
		{"slice", func() (string, error) { return Compact[[]string]().Serialize([]string{"a", "b"}) }, "2|a|b|"},
		{"array", func() (string, error) { return Compact[[2]int]().Serialize([2]int{1, 2}) }, "1|2|"},
		{"map sorted by string", func() (string, error) {
			return Compact[map[string]int]().Serialize(map[string]int{"b": 2, "a": 1, "B": 0})
		}, "3|B|0|a|1|b|2|"},
		{"map sorted by number", func() (string, error) {
			return Compact[map[int]bool]().Serialize(map[int]bool{10: true, -1: false, 2: true})
		}, "3|-1|02|110|1"},
		{"map nil", func() (string, error) { return Compact[map[int]int]().Serialize(nil) }, "~"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.enc()
			if err != nil {
				t.Fatal(err)
			}
			if len(s) < codecFingerprintLen || s[codecFingerprintLen:] != tt.want {
				t.Fatalf("encoded %q, want fingerprint + %q", s, tt.want)
			}
		})
	}
}

// TestCompactFingerprintIsBase64Hash checks the documented header: 6
// base64url characters that only depend on the shape.
func TestCompactFingerprintIsBase64Hash(t *testing.T) {
	a, _ := Compact[codecInner]().Serialize(codecInner{})
	b, _ := Compact[codecInner]().Serialize(codecInner{"other", 5})
	type sameShape struct {
		Name string
		N    int
	}
	c, _ := Compact[sameShape]().Serialize(sameShape{})
	d, _ := Compact[codecSession]().Serialize(codecSession{})
	if a[:6] != b[:6] || a[:6] != c[:6] {
		t.Fatalf("fingerprints %q %q %q differ for one shape", a[:6], b[:6], c[:6])
	}
	if a[:6] == d[:6] {
		t.Fatal("two shapes share a fingerprint")
	}
	for _, s := range []string{a, d} {
		if _, err := base64.RawURLEncoding.DecodeString(s[:6] + "AA"); err != nil {
			t.Fatalf("fingerprint %q is not base64url", s[:6])
		}
	}
}

func TestCompactOutputAlphabet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := Compact[codecKinds]()
	randString := func() string {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return string(b)
	}
	for range 2000 {
		v := codecKinds{
			B: r.IntN(2) == 1, I: r.Int(), I8: int8(r.Uint32()), I64: -r.Int64(), U64: r.Uint64(),
			UP: uintptr(r.Uint64()), F32: math.Float32frombits(r.Uint32()), F64: math.Float64frombits(r.Uint64()),
			S: randString(), Role: codecRole(randString()), Bytes: []byte(randString()),
			T: time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)), D: time.Duration(r.Int64()),
			Sl: []string{randString(), randString()}, M: map[string]int{randString(): r.Int(), randString(): -r.Int()},
			MI: map[int64]string{r.Int64(): randString()}, PS: &codecInner{randString(), r.Int()},
		}
		codecFill(r, v.BArr[:])
		s, err := c.Serialize(v)
		if err != nil {
			t.Fatal(err)
		}
		codecCheckAlphabet(t, s)
		got, err := c.Deserialize(s)
		if err != nil {
			t.Fatal(err)
		}
		v.T = v.T.UTC()
		if !codecEqual(reflect.ValueOf(got), reflect.ValueOf(v)) {
			t.Fatalf("random value did not round-trip:\n got %#v\nwant %#v", got, v)
		}
	}
}

// TestCompactSmallerThanBase64JSON holds the codec to its purpose: typical
// session values take less room than base64url(JSON), the usual way to put
// JSON in a cookie.
func TestCompactSmallerThanBase64JSON(t *testing.T) {
	expires := time.Date(2026, 1, 8, 10, 4, 5, 123456789, time.UTC)
	csrf := bytes.Repeat([]byte{0x5a, 0xc3}, 16)
	tests := []struct {
		name string
		v    codecSession
	}{
		{"zero value", codecSession{}},
		{"login only", codecSession{User: "ann", ID: 1, Expires: expires}},
		{"typical", codecSession{User: "ann.smith@example.com", ID: 1234567, Roles: []string{"admin", "editor"},
			Admin: true, Expires: expires, CSRF: csrf, Cart: map[string]int{"apple": 3, "pear": 12}}},
		{"display name with spaces", codecSession{User: "Ann Marie Smith", ID: 42, Roles: []string{"user"},
			Expires: expires, CSRF: csrf}},
		{"CJK user", codecSession{User: "山田太郎", ID: 8, Roles: []string{"user"}, Expires: expires, CSRF: csrf}},
		{"big cart", codecSession{User: "bob", ID: 99, Expires: expires, CSRF: csrf, Cart: map[string]int{
			"sku-0001": 1, "sku-0002": 2, "sku-0003": 3, "sku-0004": 4, "sku-0005": 5, "sku-0006": 6}}},
	}
	c := Compact[codecSession]()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := c.Serialize(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			j, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			b64 := base64.RawURLEncoding.EncodedLen(len(j))
			t.Logf("compact %4d bytes, base64url(json) %4d bytes (%.0f%%)", len(s), b64, 100*float64(len(s))/float64(b64))
			if len(s) >= b64 {
				t.Fatalf("compact encoding is %d bytes, base64url(json) %d", len(s), b64)
			}
		})
	}
}

func TestCompactRejectsChangedStruct(t *testing.T) {
	type v1 struct {
		Name  string
		N     int
		Inner codecInner
		List  []int
		Arr   [2]int
	}
	in := v1{Name: "ann", N: 1, Inner: codecInner{"x", 2}, List: []int{1}, Arr: [2]int{1, 2}}
	s, err := Compact[v1]().Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	type added struct {
		Name  string
		N     int
		Inner codecInner
		List  []int
		Arr   [2]int
		Extra bool
	}
	type removed struct {
		Name  string
		Inner codecInner
		List  []int
		Arr   [2]int
	}
	type renamed struct {
		Login string
		N     int
		Inner codecInner
		List  []int
		Arr   [2]int
	}
	type retyped struct {
		Name  string
		N     int64
		Inner codecInner
		List  []int
		Arr   [2]int
	}
	type reordered struct {
		N     int
		Name  string
		Inner codecInner
		List  []int
		Arr   [2]int
	}
	type nestedRenamed struct {
		Name  string
		N     int
		Inner struct {
			Title string
			N     int
		}
		List []int
		Arr  [2]int
	}
	type elemRetyped struct {
		Name  string
		N     int
		Inner codecInner
		List  []uint
		Arr   [2]int
	}
	type resized struct {
		Name  string
		N     int
		Inner codecInner
		List  []int
		Arr   [3]int
	}
	type pointered struct {
		Name  *string
		N     int
		Inner codecInner
		List  []int
		Arr   [2]int
	}
	tests := []struct {
		name   string
		decode func(string) error
	}{
		{"field added", func(s string) error { _, err := Compact[added]().Deserialize(s); return err }},
		{"field removed", func(s string) error { _, err := Compact[removed]().Deserialize(s); return err }},
		{"field renamed", func(s string) error { _, err := Compact[renamed]().Deserialize(s); return err }},
		{"field retyped", func(s string) error { _, err := Compact[retyped]().Deserialize(s); return err }},
		{"fields reordered", func(s string) error { _, err := Compact[reordered]().Deserialize(s); return err }},
		{"nested field renamed", func(s string) error { _, err := Compact[nestedRenamed]().Deserialize(s); return err }},
		{"element retyped", func(s string) error { _, err := Compact[elemRetyped]().Deserialize(s); return err }},
		{"array resized", func(s string) error { _, err := Compact[resized]().Deserialize(s); return err }},
		{"value became pointer", func(s string) error { _, err := Compact[pointered]().Deserialize(s); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.decode(s); err == nil {
				t.Fatal("decoding into the changed type succeeded")
			}
		})
	}
	t.Run("type renamed keeps sessions", func(t *testing.T) {
		type v1Renamed v1
		got, err := Compact[v1Renamed]().Deserialize(s)
		if err != nil || !reflect.DeepEqual(v1(got), in) {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestCompactRefusesUnsupportedTypes(t *testing.T) {
	type base struct{ X int }
	type withFunc struct {
		A struct {
			B []map[string]func()
		}
	}
	type withEmbeddedPtr struct{ *base }
	type withIface struct{ V any }
	tests := []struct {
		name     string
		check    func() (encErr, decErr error)
		wantPath string
	}{
		{"chan", codecUnsupported[chan int](), "chan int"},
		{"func", codecUnsupported[func()](), "func()"},
		{"complex64", codecUnsupported[complex64](), "complex64"},
		{"complex128", codecUnsupported[[]complex128](), "[]complex128[elem]"},
		{"unsafe pointer", codecUnsupported[unsafe.Pointer](), "unsafe.Pointer"},
		{"interface any", codecUnsupported[withIface](), ".V"},
		{"interface error", codecUnsupported[error](), "error"},
		{"map bool key", codecUnsupported[map[bool]int](), "map[bool]int"},
		{"map float key", codecUnsupported[map[float64]int](), "map[float64]int"},
		{"map struct key", codecUnsupported[map[codecInner]int](), "map[sessions.codecInner]int"},
		{"slice of empty struct", codecUnsupported[[]struct{}](), "[]struct {}"},
		{"slice of zero-length arrays", codecUnsupported[[][0]int](), "[][0]int"},
		{"struct without exported fields", codecUnsupported[netip.Addr](), "netip.Addr"},
		{"pointer to opaque struct", codecUnsupported[struct{ N *big.Int }](), ".N"},
		{"embedded pointer to unexported struct", codecUnsupported[withEmbeddedPtr](), ".base"},
		{"nested path", codecUnsupported[withFunc](), "withFunc.A.B[elem][value]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encErr, decErr := tt.check()
			for _, err := range []error{encErr, decErr} {
				if !errors.Is(err, errors.ErrUnsupported) {
					t.Fatalf("error %v does not wrap errors.ErrUnsupported", err)
				}
				if !strings.Contains(err.Error(), tt.wantPath) {
					t.Fatalf("error %q does not name %q", err, tt.wantPath)
				}
			}
		})
	}
}

// codecUnsupported returns the errors of Serialize (of the zero T, which
// is how a caller can check a type up front) and of Deserialize.
func codecUnsupported[T any]() func() (error, error) {
	return func() (error, error) {
		c := Compact[T]()
		var zero T
		_, encErr := c.Serialize(zero)
		_, decErr := c.Deserialize("AAAAAA")
		return encErr, decErr
	}
}

func TestCompactRejectsTruncatedInput(t *testing.T) {
	c := Compact[codecKinds]()
	s, err := c.Serialize(codecFullValue())
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(s) {
		if _, err := c.Deserialize(s[:i]); err == nil {
			t.Fatalf("decoding the first %d of %d bytes succeeded", i, len(s))
		}
	}
}

func TestCompactRejectsTrailingBytes(t *testing.T) {
	c := Compact[codecKinds]()
	s, err := c.Serialize(codecFullValue())
	if err != nil {
		t.Fatal(err)
	}
	for _, tail := range []string{"|", "0", "~", "a", " ", "\x00", s} {
		if _, err := c.Deserialize(s + tail); err == nil {
			t.Fatalf("decoding with %q appended succeeded", tail)
		}
	}
}

func TestCompactRejectsLengthsBeyondInput(t *testing.T) {
	tests := []struct {
		name   string
		decode func(body string) error
		body   string
	}{
		{"slice 2^60", codecDecodeBody[[]string], "1152921504606846976|a|"},
		{"slice 2^64-1", codecDecodeBody[[]int], "18446744073709551615|1|"},
		{"slice 2^64 overflows", codecDecodeBody[[]int], "18446744073709551616|1|"},
		{"slice of bools one short", codecDecodeBody[[]bool], "3|11"},
		{"slice of ints beyond remaining", codecDecodeBody[[]int], "3|1|2|"},
		{"map 2^60", codecDecodeBody[map[string]int], "1152921504606846976|a|1|"},
		{"map of sets beyond remaining", codecDecodeBody[map[string]struct{}], "4|a|b|c|"},
		{"nested slices 2^60", codecDecodeBody[[][]int], "1|1152921504606846976|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			allocs := testing.AllocsPerRun(10, func() { err = tt.decode(tt.body) })
			if err == nil {
				t.Fatal("decoding succeeded")
			}
			if allocs > 10 {
				t.Fatalf("a refused length cost %v allocations", allocs)
			}
		})
	}
}

// codecDecodeBody decodes body after T's fingerprint.
func codecDecodeBody[T any](body string) error {
	c := Compact[T]()
	var zero T
	s, err := c.Serialize(zero)
	if err != nil {
		return err
	}
	_, err = c.Deserialize(s[:codecFingerprintLen] + body)
	return err
}

func TestCompactBoundsNesting(t *testing.T) {
	nested := func(levels int) codecList {
		var l codecList = codecList{}
		for range levels - 1 {
			l = codecList{l}
		}
		return l
	}
	c := Compact[codecList]()
	t.Run("64 levels round-trip", func(t *testing.T) {
		codecRoundTrip(t, nested(codecMaxDepth), nested(codecMaxDepth))
	})
	t.Run("65 levels refused by Serialize", func(t *testing.T) {
		if _, err := c.Serialize(nested(codecMaxDepth + 1)); err == nil {
			t.Fatal("Serialize accepted 65 levels")
		}
	})
	t.Run("65 levels refused by Deserialize", func(t *testing.T) {
		s, _ := c.Serialize(nil)
		body := strings.Repeat("1|", codecMaxDepth) + "0|"
		if _, err := c.Deserialize(s[:codecFingerprintLen] + body); err == nil {
			t.Fatal("Deserialize accepted 65 levels")
		}
		if _, err := c.Deserialize(s[:codecFingerprintLen] + body[2:]); err != nil {
			t.Fatalf("Deserialize refused 64 levels: %v", err)
		}
	})
	t.Run("a million levels refused without overflow", func(t *testing.T) {
		s, _ := Compact[*codecNode]().Serialize(nil)
		body := strings.Repeat("&0|", 1_000_000)
		if _, err := Compact[*codecNode]().Deserialize(s[:codecFingerprintLen] + body); err == nil {
			t.Fatal("Deserialize accepted a million levels")
		}
	})
	t.Run("cyclic value refused by Serialize", func(t *testing.T) {
		n := &codecNode{V: 1}
		n.Next = n
		_, err := Compact[*codecNode]().Serialize(n)
		if err == nil || !strings.Contains(err.Error(), "deeper than 64") {
			t.Fatalf("Serialize of a cycle: %v", err)
		}
	})
}

// TestCompactRejectsNonCanonical checks that each value has one encoding:
// every bad text is paired with the canonical text of the same value,
// which must decode, so a case cannot pass by failing for another reason.
func TestCompactRejectsNonCanonical(t *testing.T) {
	tests := []struct {
		name      string
		decode    func(string) error
		bad, good string
	}{
		{"int leading zero", codecDecodeBody[int], "01|", "1|"},
		{"int zero padded", codecDecodeBody[int], "00|", "0|"},
		{"int negative zero", codecDecodeBody[int], "-0|", "0|"},
		{"int plus sign", codecDecodeBody[int], "+1|", "1|"},
		{"int empty", codecDecodeBody[int], "|", "0|"},
		{"int8 overflow", codecDecodeBody[int8], "128|", "127|"},
		{"int8 underflow", codecDecodeBody[int8], "-129|", "-128|"},
		{"int64 overflow", codecDecodeBody[int64], "9223372036854775808|", "9223372036854775807|"},
		{"uint negative", codecDecodeBody[uint], "-1|", "1|"},
		{"uint8 overflow", codecDecodeBody[uint8], "256|", "255|"},
		{"uint64 overflow", codecDecodeBody[uint64], "18446744073709551616|", "18446744073709551615|"},
		{"int with space", codecDecodeBody[int], "1 |", "1|"},
		{"bool two", codecDecodeBody[bool], "2", "1"},
		{"bool letter", codecDecodeBody[bool], "t", "1"},
		{"float trailing zero", codecDecodeBody[float64], "1.0|", "1|"},
		{"float exponent", codecDecodeBody[float64], "1e0|", "1|"},
		{"float capital exponent", codecDecodeBody[float64], "1E+21|", "1e+21|"},
		{"float long form", codecDecodeBody[float64], "1000000000000000000000|", "1e+21|"},
		{"float hex", codecDecodeBody[float64], "0x1p-1|", "0.5|"},
		{"float lowercase nan", codecDecodeBody[float64], "nan|", "NaN|"},
		{"float unsigned inf", codecDecodeBody[float64], "Inf|", "+Inf|"},
		{"float infinity", codecDecodeBody[float64], "+Infinity|", "+Inf|"},
		{"float out of range", codecDecodeBody[float32], "1e39|", "+Inf|"},
		{"float32 too precise", codecDecodeBody[float32], "0.10000000149011612|", "0.1|"},
		{"float leading dot", codecDecodeBody[float64], ".5|", "0.5|"},
		{"string escaped letter", codecDecodeBody[string], "*41|", "A|"},
		{"string escaped space", codecDecodeBody[string], "*20|", "+|"},
		{"string lowercase hex", codecDecodeBody[string], "*2b|", "*2B|"},
		{"string raw space", codecDecodeBody[string], "a b|", "a+b|"},
		{"string raw percent", codecDecodeBody[string], "100%|", "100*25|"},
		{"string raw quote", codecDecodeBody[string], `"|`, "*22|"},
		{"string raw non-ASCII", codecDecodeBody[string], "Jos\xc3\xa9|", "Jos*C3*A9|"},
		{"string short escape", codecDecodeBody[string], "*4|", "*7C|"},
		{"string base64 where plain is shorter", codecDecodeBody[string], "*=YQ|", "a|"},
		{"string base64 of equal length", codecDecodeBody[string], "*=Sm9zw6k|", "Jos*C3*A9|"},
		{"string plain one longer than base64", codecDecodeBody[string], "*C3*A9|", "*=w6k|"},
		{"string plain where base64 is shorter", codecDecodeBody[string], "*E5*B1*B1*E7*94*B0|", "*=5bGx55Sw|"},
		{"string base64 trailing bits", codecDecodeBody[string], "*=5bGx55SwYR|", "*=5bGx55SwYQ|"},
		{"bytes trailing bits", codecDecodeBody[[]byte], "YR|", "YQ|"},
		{"bytes padded", codecDecodeBody[[]byte], "YQ==|", "YQ|"},
		{"bytes standard alphabet", codecDecodeBody[[]byte], "+/8|", "-_8|"},
		{"bytes impossible length", codecDecodeBody[[]byte], "YWJjZ|", "YWJj|"},
		{"byte array trailing bits", codecDecodeBody[[1]byte], "YR", "YQ"},
		{"time trailing zero", codecDecodeBody[time.Time], "1767225600.50|", "1767225600.5|"},
		{"time zero fraction", codecDecodeBody[time.Time], "1767225600.0|", "1767225600|"},
		{"time empty fraction", codecDecodeBody[time.Time], "1767225600.|", "1767225600|"},
		{"time ten digit fraction", codecDecodeBody[time.Time], "1767225600.1234567891|", "1767225600.123456789|"},
		{"time leading zero", codecDecodeBody[time.Time], "01767225600|", "1767225600|"},
		{"time zero as seconds", codecDecodeBody[time.Time], "-62135596800|", "|"},
		{"time out of range", codecDecodeBody[time.Time], "9223372036854775807|", "9223372036854775|"},
		{"pointer without marker", codecDecodeBody[*int], "7|", "&7|"},
		{"slice count leading zero", codecDecodeBody[[]int], "01|7|", "1|7|"},
		{"map keys unsorted", codecDecodeBody[map[string]int], "2|b|1|a|2|", "2|a|2|b|1|"},
		{"map keys repeated", codecDecodeBody[map[string]int], "2|a|1|a|2|", "1|a|2|"},
		{"map int keys unsorted", codecDecodeBody[map[int]int], "2|1|0|-1|0|", "2|-1|0|1|0|"},
		{"map uint keys repeated", codecDecodeBody[map[uint]int], "2|1|0|1|0|", "1|1|0|"},
		{"nil marker on a string", codecDecodeBody[string], "~", "~|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.decode(tt.good); err != nil {
				t.Fatalf("the canonical form %q does not decode: %v", tt.good, err)
			}
			if err := tt.decode(tt.bad); err == nil {
				t.Fatalf("the non-canonical form %q decoded", tt.bad)
			}
		})
	}
	t.Run("wrong fingerprint", func(t *testing.T) {
		s, _ := Compact[int]().Serialize(1)
		for _, fp := range []string{"", s[:5], "AAAAAA", strings.ToUpper(s[:6])} {
			if fp == s[:6] {
				continue
			}
			if _, err := Compact[int]().Deserialize(fp + s[6:]); err == nil {
				t.Fatalf("fingerprint %q accepted", fp)
			}
		}
	})
}

func TestCompactKeepsNilApartFromEmpty(t *testing.T) {
	type holder struct {
		S []int
		B []byte
		M map[string]int
		P *[]int
	}
	c := Compact[holder]()
	nilText, _ := c.Serialize(holder{})
	emptyText, _ := c.Serialize(holder{S: []int{}, B: []byte{}, M: map[string]int{}, P: &[]int{}})
	if nilText == emptyText {
		t.Fatal("nil and empty encode alike")
	}
	gotNil, err := c.Deserialize(nilText)
	if err != nil || gotNil.S != nil || gotNil.B != nil || gotNil.M != nil || gotNil.P != nil {
		t.Fatalf("nil fields came back as %+v, %v", gotNil, err)
	}
	gotEmpty, err := c.Deserialize(emptyText)
	if err != nil || gotEmpty.S == nil || gotEmpty.B == nil || gotEmpty.M == nil || gotEmpty.P == nil || *gotEmpty.P == nil {
		t.Fatalf("empty fields came back as %+v, %v", gotEmpty, err)
	}
}

func TestCompactTimeKeepsInstantInUTC(t *testing.T) {
	zone := time.FixedZone("UTC-7", -7*3600)
	in := time.Now().In(zone) // carries a monotonic reading
	c := Compact[time.Time]()
	s, err := c.Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Deserialize(s)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(in) || got.Location() != time.UTC || strings.Contains(got.String(), "m=") {
		t.Fatalf("got %v, want the instant %v in UTC without a monotonic reading", got, in)
	}
}

// TestCompactRefusesTimeOutsideRange covers the times whose Unix seconds
// time.Unix cannot map back: Serialize refuses them rather than write a
// text that decodes to another instant.
func TestCompactRefusesTimeOutsideRange(t *testing.T) {
	c := Compact[time.Time]()
	for _, tm := range []time.Time{
		time.Unix(math.MinInt64, 0).Add(-time.Hour), // wraps around in t.Unix()
		time.Unix(codecMaxUnix+1, 0),                // wraps around inside time.Unix
	} {
		if _, err := c.Serialize(tm); err == nil {
			t.Fatalf("Serialize accepted a time with Unix seconds %d", tm.Unix())
		}
	}
	for _, tm := range []time.Time{time.Unix(math.MinInt64, 0), time.Unix(codecMaxUnix, 999999999)} {
		codecRoundTrip(t, tm, tm.UTC())
	}
}

func TestCompactErrorsDoNotQuoteContent(t *testing.T) {
	const secret = "s3cr3tT0k3n"
	c := Compact[codecSession]()
	s, _ := c.Serialize(codecSession{User: secret, CSRF: []byte(secret)})
	for _, bad := range []string{
		s[:6] + secret + " |",               // invalid byte in the string
		s[:6] + secret + "|" + secret + "|", // invalid integer
		s[:12] + secret,
		s + secret,
	} {
		_, err := c.Deserialize(bad)
		if err == nil {
			t.Fatal("malformed input decoded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error %q quotes the input", err)
		}
	}
	_, err := c.Deserialize(secret + s)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error %v quotes the input", err)
	}
}

func TestCompactConcurrentUse(t *testing.T) {
	c := Compact[codecKinds]()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				v := codecFullValue()
				v.I = g*1000 + i
				v.M["g"] = g
				s, err := c.Serialize(v)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := c.Deserialize(s)
				if err != nil || got.I != v.I || got.M["g"] != g {
					t.Errorf("goroutine %d got I=%d M[g]=%d, %v", g, got.I, got.M["g"], err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestCompactDecodeAllocatesLittle holds Deserialize to the allocations of
// the value itself: the value, the Roles array, CSRF, the map (two: the
// map and its first group), and one scratch key/value pair, and nothing per
// string.
func TestCompactDecodeAllocatesLittle(t *testing.T) {
	c := Compact[codecSession]()
	s, err := c.Serialize(codecBenchValue())
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Deserialize(s); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 6 {
		t.Fatalf("Deserialize made %v allocations, want at most 6", allocs)
	}
}

func TestCompactBase64MatchesStandardLibrary(t *testing.T) {
	strict := base64.RawURLEncoding.Strict()
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 70 {
		b := make([]byte, n)
		codecFill(r, b)
		enc := string(codecEncodeBase64(nil, b))
		if want := base64.RawURLEncoding.EncodeToString(b); enc != want {
			t.Fatalf("encoding of %d bytes is %q, want %q", n, enc, want)
		}
		if got := string(codecEncodeBase64(nil, string(b))); got != enc {
			t.Fatal("string and []byte encodings differ")
		}
		dst := make([]byte, len(enc)*3/4)
		if !codecDecodeBase64(dst, enc) || !bytes.Equal(dst, b) {
			t.Fatalf("decoding %q failed", enc)
		}
		// Every single-character change is rejected exactly when the
		// strict standard decoder rejects it, newlines aside.
		for i := range len(enc) {
			for _, c := range []byte("A_-+/=\n.Q") {
				mut := enc[:i] + string(c) + enc[i+1:]
				_, stdErr := strict.DecodeString(mut)
				ok := codecDecodeBase64(make([]byte, len(mut)*3/4), mut)
				if c == '\n' {
					if ok {
						t.Fatalf("accepted a newline in %q", mut)
					}
					continue
				}
				if ok != (stdErr == nil) {
					t.Fatalf("%q: codec ok=%v, standard library error %v", mut, ok, stdErr)
				}
			}
		}
	}
}
