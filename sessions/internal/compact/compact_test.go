package compact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

func TestRoundTrip(t *testing.T) {
	now := time.Now()
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"bool false", same(false)},
		{"bool true", same(true)},
		{"int zero", same(0)},
		{"int negative", same(-42)},
		{"int min", same(math.MinInt)},
		{"int max", same(math.MaxInt)},
		{"int8 min", same(int8(math.MinInt8))},
		{"int8 max", same(int8(math.MaxInt8))},
		{"int16 min", same(int16(math.MinInt16))},
		{"int16 max", same(int16(math.MaxInt16))},
		{"int32 min", same(int32(math.MinInt32))},
		{"int32 max", same(int32(math.MaxInt32))},
		{"int64 min", same(int64(math.MinInt64))},
		{"int64 max", same(int64(math.MaxInt64))},
		{"uint max", same(uint(math.MaxUint))},
		{"uint8 max", same(uint8(math.MaxUint8))},
		{"uint16 max", same(uint16(math.MaxUint16))},
		{"uint32 max", same(uint32(math.MaxUint32))},
		{"uint64 max", same(uint64(math.MaxUint64))},
		{"uint64 zero", same(uint64(0))},
		{"uintptr", same(uintptr(0xdeadbeef))},
		{"float64 zero", same(0.0)},
		{"float64 negative zero", same(math.Copysign(0, -1))},
		{"float64 fraction", same(-0.1)},
		{"float64 max", same(math.MaxFloat64)},
		{"float64 smallest subnormal", same(math.SmallestNonzeroFloat64)},
		{"float64 NaN", same(math.NaN())},
		{"float64 +Inf", same(math.Inf(1))},
		{"float64 -Inf", same(math.Inf(-1))},
		{"float32 fraction", same(float32(0.1))},
		{"float32 max", same(float32(math.MaxFloat32))},
		{"float32 smallest subnormal", same(float32(math.SmallestNonzeroFloat32))},
		{"float32 NaN", same(float32(math.NaN()))},
		{"float32 -Inf", same(float32(math.Inf(-1)))},
		{"string empty", same("")},
		{"string word", same("hello")},
		{"string email", same("ann.smith+tag@example.com")},
		{"string spaces", same(" two  spaces ")},
		{"string grammar specials", same("*|+~&=*=()[]{}:!@$^-")},
		{"string cookie specials", same(`a"b,c;d\e%f`)},
		{"string latin unicode", same("José García")},
		{"string CJK", same("山田太郎")},
		{"string emoji", same("🍪 cookie")},
		{"string invalid UTF-8", same("\xff\xfe\x00")},
		{"string every byte", same(string(allBytes()))},
		{"string long base64", same(strings.Repeat("日本", 100))},
		{"named string", same(role("editor"))},
		{"bytes nil", same([]byte(nil))},
		{"bytes empty", same([]byte{})},
		{"bytes one", same([]byte{0xff})},
		{"bytes two", same([]byte{0, 0xff})},
		{"bytes three", same([]byte{1, 2, 3})},
		{"bytes every byte", same(allBytes())},
		{"bytes long", same(bytes.Repeat(allBytes(), 3))},
		{"named byte slice", same([]namedByte{1, 2, 3})},
		{"named byte array", same([2]namedByte{0xff, 0})},
		{"byte array empty", same([0]byte{})},
		{"byte array one", same([1]byte{0x80})},
		{"byte array 32", same([32]byte{31: 1})},
		{"time zero", same(time.Time{})},
		{"time epoch", same(time.Unix(0, 0).UTC())},
		{"time now, normalised", as(now, now.Round(0).UTC())},
		{"time other zone, normalised", as(time.Date(2026, 3, 1, 10, 0, 0, 1, paris), time.Date(2026, 3, 1, 9, 0, 0, 1, time.UTC))},
		{"time before 1970 with nanoseconds", same(time.Date(1969, 12, 31, 23, 59, 59, 250000000, time.UTC))},
		{"time year 1 plus a nanosecond", same(time.Time{}.Add(1))},
		{"time far past", same(time.Date(-100000, 1, 1, 0, 0, 0, 0, time.UTC))},
		{"time far future", same(time.Date(100000, 1, 1, 0, 0, 0, 999999999, time.UTC))},
		{"duration min", same(time.Duration(math.MinInt64))},
		{"duration max", same(time.Duration(math.MaxInt64))},
		{"slice nil", same([]int(nil))},
		{"slice empty", same([]int{})},
		{"slice values", same([]int{3, -1, 0})},
		{"slice of slices", same([][]string{nil, {}, {"a", "b"}})},
		{"slice of empty structs", same([]struct{}{{}, {}})},
		{"slice of zero-length arrays", same([][0]int{{}, {}})},
		{"slice of zero values", same([]inner{{}, {"a", 0}, {}})},
		{"array", same([4]int16{1, -2, 3, -4})},
		{"array of arrays", same([2][2]bool{{true, false}, {false, true}})},
		{"map nil", same(map[string]int(nil))},
		{"map empty", same(map[string]int{})},
		{"map string keys", same(map[string]int{"pear": 12, "apple": 3, "": -1, "Ann Smith": 0})},
		{"map int keys", same(map[int]string{-10: "a", 0: "b", 10: "c", math.MinInt: "min", math.MaxInt: "max"})},
		{"map uint8 keys", same(map[uint8][]byte{0: nil, 1: {}, 255: {1}})},
		{"map named keys", same(map[role]bool{"admin": true, "user": false})},
		{"map set", same(map[string]struct{}{"x": {}, "y": {}})},
		{"map of maps", same(map[string]map[int]int{"a": {1: 1}, "b": nil, "c": {}})},
		{"map of structs", same(map[string]inner{"a": {"x", 1}, "zero": {}})},
		{"pointer nil", same((*int)(nil))},
		{"pointer to zero", same(ptr(0))},
		{"pointer to pointer", same(ptr(ptr("x")))},
		{"pointer to nil pointer", same(ptr((*string)(nil)))},
		{"pointer to struct", same(&inner{"a", 1})},
		{"pointer to zero struct", same(&inner{})},
		{"empty struct", same(struct{}{})},
		{"struct zero value", same(kinds{})},
		{"struct every kind", same(fullValue())},
		{"struct of zero-length fields", same(struct {
			A [0]int
			B [0]byte
			C struct{}
		}{})},
		{"session", same(typicalSession())},
		{"recursive list", same(&node{V: 1, Next: &node{V: 2, Next: &node{V: 3}}})},
		{"recursive tree", same(node{Kids: []node{{V: 1}, {V: 2, Kids: []node{{V: 3}}}},
			Children: map[string]*node{"a": {V: 4}, "nil": nil}})},
		{"recursive slices", same(list{nil, {}, {{}, {nil}}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestSkipsUnexportedAndDashTaggedFields(t *testing.T) {
	c := For[kinds]()
	s, err := c.Serialize(kinds{hidden: 7, Skip: "not kept"})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := c.Serialize(kinds{}); s != want {
		t.Fatal("an unexported or \"-\" field changed the encoding")
	}
	got, err := c.Deserialize(s)
	if err != nil || got.hidden != 0 || got.Skip != "" {
		t.Fatalf("got hidden=%d Skip=%q, err %v; want zero, nil", got.hidden, got.Skip, err)
	}
}

// TestEncodesAsDocumented pins the grammar written in the package doc.
func TestEncodesAsDocumented(t *testing.T) {
	type doc struct {
		User  string
		ID    int64
		Roles []string
		Admin bool
	}
	type tagged struct {
		Name  string `session:"n"`
		Count int    `session:"-"`
		Zero  int
	}
	type nested struct {
		A inner
		B inner
	}
	enc := func(f func() (string, error)) func() (string, error) { return f }
	tests := []struct {
		name string
		enc  func() (string, error)
		want string
	}{
		{"doc example", enc(func() (string, error) {
			return For[doc]().Serialize(doc{"ann@example.com", 42, []string{"admin"}, false})
		}), "2(ID=42|Roles[1|:admin|User:ann@example.com|)"},
		{"zero struct", enc(func() (string, error) { return For[doc]().Serialize(doc{}) }), "2()"},
		{"tags", enc(func() (string, error) { return For[tagged]().Serialize(tagged{"ann", 3, 0}) }), "2(n:ann|)"},
		{"zero nested struct omitted", enc(func() (string, error) { return For[nested]().Serialize(nested{B: inner{N: 1}}) }), "2(B(N=1|))"},
		{"bools", enc(func() (string, error) { return For[[2]bool]().Serialize([2]bool{false, true}) }), "2[2|-+"},
		{"negative int", enc(func() (string, error) { return For[int8]().Serialize(-12) }), "2=-12|"},
		{"uint", enc(func() (string, error) { return For[uint64]().Serialize(math.MaxUint64) }), "2=18446744073709551615|"},
		{"duration", enc(func() (string, error) { return For[time.Duration]().Serialize(time.Second) }), "2$1000000000|"},
		{"float half", enc(func() (string, error) { return For[float64]().Serialize(0.5) }), "2^0.5|"},
		{"float negative zero", enc(func() (string, error) { return For[float64]().Serialize(math.Copysign(0, -1)) }), "2^-0|"},
		{"float exponent", enc(func() (string, error) { return For[float64]().Serialize(1e21) }), "2^1e+21|"},
		{"float NaN", enc(func() (string, error) { return For[float32]().Serialize(float32(math.NaN())) }), "2^NaN|"},
		{"float +Inf", enc(func() (string, error) { return For[float64]().Serialize(math.Inf(1)) }), "2^+Inf|"},
		{"float32 shortest", enc(func() (string, error) { return For[float32]().Serialize(0.1) }), "2^0.1|"},
		{"string space", enc(func() (string, error) { return For[string]().Serialize("Ann Smith") }), "2:Ann+Smith|"},
		{"string plus", enc(func() (string, error) { return For[string]().Serialize("a+b") }), "2:a*2Bb|"},
		{"string star and bar", enc(func() (string, error) { return For[string]().Serialize("a*|b") }), "2:a*2A*7Cb|"},
		{"string latin", enc(func() (string, error) { return For[string]().Serialize("José") }), "2:Jos*C3*A9|"},
		{"string latin, base64 shorter", enc(func() (string, error) { return For[string]().Serialize("é") }), "2:*=w6k|"},
		{"string CJK as base64", enc(func() (string, error) { return For[string]().Serialize("山田") }), "2:*=5bGx55Sw|"},
		{"string empty", enc(func() (string, error) { return For[string]().Serialize("") }), "2:|"},
		{"bytes nil", enc(func() (string, error) { return For[[]byte]().Serialize(nil) }), "2~"},
		{"bytes empty", enc(func() (string, error) { return For[[]byte]().Serialize([]byte{}) }), "2!|"},
		{"bytes", enc(func() (string, error) { return For[[]byte]().Serialize([]byte{0xfb, 0xff}) }), "2!-_8|"},
		{"byte array", enc(func() (string, error) { return For[[2]byte]().Serialize([2]byte{0xfb, 0xff}) }), "2!-_8|"},
		{"time zero", enc(func() (string, error) { return For[time.Time]().Serialize(time.Time{}) }), "2@|"},
		{"time whole second", enc(func() (string, error) { return For[time.Time]().Serialize(time.Unix(1767225600, 0)) }), "2@1767225600|"},
		{"time fraction", enc(func() (string, error) { return For[time.Time]().Serialize(time.Unix(1767225600, 5e8)) }), "2@1767225600.5|"},
		{"time before 1970", enc(func() (string, error) { return For[time.Time]().Serialize(time.Unix(0, -75e7)) }), "2@-1.25|"},
		{"pointer nil", enc(func() (string, error) { return For[*int]().Serialize(nil) }), "2~"},
		{"pointer", enc(func() (string, error) { return For[*int]().Serialize(ptr(7)) }), "2&=7|"},
		{"slice nil", enc(func() (string, error) { return For[[]string]().Serialize(nil) }), "2~"},
		{"slice", enc(func() (string, error) { return For[[]string]().Serialize([]string{"a", "b"}) }), "2[2|:a|:b|"},
		{"array", enc(func() (string, error) { return For[[2]int]().Serialize([2]int{1, 2}) }), "2[2|=1|=2|"},
		{"map sorted by string", enc(func() (string, error) {
			return For[map[string]int]().Serialize(map[string]int{"b": 2, "a": 1, "B": 0})
		}), "2{3|:B|=0|:a|=1|:b|=2|"},
		{"map sorted by number", enc(func() (string, error) {
			return For[map[int]bool]().Serialize(map[int]bool{10: true, -1: false, 2: true})
		}), "2{3|=-1|-=2|+=10|+"},
		{"map nil", enc(func() (string, error) { return For[map[int]int]().Serialize(nil) }), "2~"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.enc()
			if err != nil {
				t.Fatal(err)
			}
			if s != tt.want {
				t.Fatalf("encoded %q, want %q", s, tt.want)
			}
		})
	}
}

func TestVersionPrefix(t *testing.T) {
	c := For[session]()
	good, err := c.Serialize(typicalSession())
	if err != nil {
		t.Fatal(err)
	}
	if good[0] != Version || Version != '2' {
		t.Fatalf("text starts with %q, want the version byte '2'", good[0])
	}
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"no version", good[1:]},
		{"a later version", "3" + good[1:]},
		{"version 1, fingerprint first", "6tmBb1ann.smith@example.com|1234567|2|admin|editor|11767866645.123456789|WsNaw1rDWsNaw1rDWsNaw1rDWsNaw1rDWsNaw1rDWsM|2|apple|3|pear|12|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Deserialize(tt.text); !errors.Is(err, ErrVersion) {
				t.Fatalf("got %v, want an error wrapping ErrVersion", err)
			}
		})
	}
}

func TestCookieSafeAndUpperHex(t *testing.T) {
	for c := range 256 {
		if got, want := CookieSafe(byte(c)), strings.IndexByte(alphabet, byte(c)) >= 0; got != want {
			t.Fatalf("CookieSafe(%q) = %v, want %v", byte(c), got, want)
		}
	}
	if UpperHex != "0123456789ABCDEF" {
		t.Fatalf("UpperHex is %q", UpperHex)
	}
}

func TestOutputAlphabet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := For[kinds]()
	randString := func() string {
		b := make([]byte, r.IntN(40))
		fill(r, b)
		return string(b)
	}
	for range 2000 {
		v := kinds{
			B: r.IntN(2) == 1, I: r.Int(), I8: int8(r.Uint32()), I64: -r.Int64(), U64: r.Uint64(),
			UP: uintptr(r.Uint64()), F32: math.Float32frombits(r.Uint32()), F64: math.Float64frombits(r.Uint64()),
			S: randString(), Role: role(randString()), Bytes: []byte(randString()),
			T: time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)), D: time.Duration(r.Int64()),
			Sl: []string{randString(), randString()}, M: map[string]int{randString(): r.Int(), randString(): -r.Int()},
			MI: map[int64]string{r.Int64(): randString()}, PS: &inner{randString(), r.Int()}, Tag: randString(),
		}
		fill(r, v.BArr[:])
		s, err := c.Serialize(v)
		if err != nil {
			t.Fatal(err)
		}
		checkAlphabet(t, s)
		got, err := c.Deserialize(s)
		if err != nil {
			t.Fatal(err)
		}
		v.T = v.T.UTC()
		if !equalValues(got, v) {
			t.Fatalf("random value did not round-trip:\n got %#v\nwant %#v", got, v)
		}
	}
}

func TestRefusesUnsupportedTypes(t *testing.T) {
	type base struct{ X int }
	type withFunc struct {
		A struct {
			B []map[string]func()
		}
	}
	type withEmbeddedPtr struct{ *base }
	type withIface struct{ V any }
	type unicodeName struct{ Größe int }
	type badTag struct {
		A int `session:"a-b"`
	}
	type emptyTag struct {
		A int `session:""`
	}
	type sameKey struct {
		A int `session:"B"`
		B int
	}
	tests := []struct {
		name     string
		check    func() (encErr, decErr error)
		wantPath string
	}{
		{"chan", unsupportedErrs[chan int](), "chan int"},
		{"func", unsupportedErrs[func()](), "func()"},
		{"complex64", unsupportedErrs[complex64](), "complex64"},
		{"complex128", unsupportedErrs[[]complex128](), "[]complex128[elem]"},
		{"unsafe pointer", unsupportedErrs[unsafe.Pointer](), "unsafe.Pointer"},
		{"interface any", unsupportedErrs[withIface](), ".V"},
		{"interface error", unsupportedErrs[error](), "error"},
		{"map bool key", unsupportedErrs[map[bool]int](), "map[bool]int"},
		{"map float key", unsupportedErrs[map[float64]int](), "map[float64]int"},
		{"map struct key", unsupportedErrs[map[inner]int](), "map[compact.inner]int"},
		{"struct without exported fields", unsupportedErrs[netip.Addr](), "netip.Addr"},
		{"pointer to opaque struct", unsupportedErrs[struct{ N *big.Int }](), ".N"},
		{"embedded pointer to unexported struct", unsupportedErrs[withEmbeddedPtr](), ".base"},
		{"nested path", unsupportedErrs[withFunc](), "withFunc.A.B[elem][value]"},
		{"non-ASCII field name without a tag", unsupportedErrs[unicodeName](), ".Größe"},
		{"tag with another byte", unsupportedErrs[badTag](), ".A"},
		{"empty tag", unsupportedErrs[emptyTag](), ".A"},
		{"two fields with one key", unsupportedErrs[sameKey](), ".B"},
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

// unsupportedErrs returns the errors of Serialize (of the zero T, which is
// how a caller can check a type up front) and of Deserialize.
func unsupportedErrs[T any]() func() (error, error) {
	return func() (error, error) {
		c := For[T]()
		var zero T
		_, encErr := c.Serialize(zero)
		_, decErr := c.Deserialize("2()")
		return encErr, decErr
	}
}

func TestRejectsTruncatedInput(t *testing.T) {
	c := For[kinds]()
	s, err := c.Serialize(fullValue())
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(s) {
		if _, err := c.Deserialize(s[:i]); err == nil {
			t.Fatalf("decoding the first %d of %d bytes succeeded", i, len(s))
		}
	}
}

func TestRejectsTrailingBytes(t *testing.T) {
	c := For[kinds]()
	s, err := c.Serialize(fullValue())
	if err != nil {
		t.Fatal(err)
	}
	for _, tail := range []string{"|", "0", "~", ")", "a", " ", "\x00", s, s[1:]} {
		if _, err := c.Deserialize(s + tail); err == nil {
			t.Fatalf("decoding with %q appended succeeded", tail)
		}
	}
}

// TestRejectsLengthsBeyondInput checks that a count the input cannot hold is
// refused before it sizes an allocation. Each case is measured against the
// same text claiming a count of 4, which is refused as well: a refusal
// that allocated in proportion to the count (1<<20 strings are 16 MiB)
// costs far more than the bound, whatever a pool or the race detector do
// to small allocations.
func TestRejectsLengthsBeyondInput(t *testing.T) {
	type holder struct{ L []inner }
	tests := []struct {
		name        string
		decode      func(body string) error
		body, small string
	}{
		{"slice 2^60", decodeBody[[]string], "[1152921504606846976|:a|", "[4|:a|"},
		{"slice 2^20", decodeBody[[]string], "[1048576|:a|", "[4|:a|"},
		{"slice 2^64-1", decodeBody[[]int], "[18446744073709551615|=1|", "[4|=1|"},
		{"slice 2^64 overflows", decodeBody[[]int], "[18446744073709551616|=1|", "[4|=1|"},
		{"slice of ints beyond remaining", decodeBody[[]int], "[3|=1|=2|", "[4|=1|=2|"},
		{"slice of bools one short", decodeBody[[]bool], "[3|++", "[4|++"},
		{"map 2^20", decodeBody[map[string]int], "{1048576|:a|=1|", "{4|:a|=1|"},
		{"map of sets beyond remaining", decodeBody[map[string]struct{}], "{4|:a|():b|()", "{5|:a|():b|()"},
		{"nested slices 2^20", decodeBody[[][]int], "[1|[1048576|", "[1|[4|"},
		{"slice of structs in a field 2^20", decodeBody[holder], "(L[1048576|())", "(L[4|())"},
		{"skipped field 2^20", decodeBody[holder], "(X[1048576|())", "(X[4|())"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errBig, errSmall error
			big := bytesPerRun(20, func() { errBig = tt.decode(tt.body) })
			small := bytesPerRun(20, func() { errSmall = tt.decode(tt.small) })
			t.Logf("count refused: %.0f bytes per call; count of 4: %.0f", big, small)
			if errBig == nil || errSmall == nil {
				t.Fatalf("decoding succeeded: %v, %v", errBig, errSmall)
			}
			if big > 2*small+4096 {
				t.Fatalf("refusing the count allocated %.0f bytes, against %.0f for a count of 4", big, small)
			}
		})
	}
}

// TestDecodeAllocatesLittle bounds what Deserialize allocates: strings share
// the input (a longer text allocates no more), and the whole value costs
// a small multiple of the input's size.
func TestDecodeAllocatesLittle(t *testing.T) {
	c := For[session]()
	long := strings.Repeat("a", 4000)
	tests := []struct {
		name  string
		short session
		long  session
		slack float64
	}{
		{"user name", session{User: "a"}, session{User: long}, 512},
		{"roles", session{Roles: []string{"a", "b"}}, session{Roles: []string{long, long}}, 512},
		{"cart keys", session{Cart: map[string]int{"a": 1}}, session{Cart: map[string]int{long: 1}}, 512},
	}
	for _, tt := range tests {
		t.Run("strings share the input: "+tt.name, func(t *testing.T) {
			s1, _ := c.Serialize(tt.short)
			s2, _ := c.Serialize(tt.long)
			a1 := bytesPerRun(50, func() { _, _ = c.Deserialize(s1) })
			a2 := bytesPerRun(50, func() { _, _ = c.Deserialize(s2) })
			t.Logf("%d and %d bytes of text: %.0f and %.0f bytes allocated", len(s1), len(s2), a1, a2)
			if a2 > a1+tt.slack {
				t.Fatalf("%d more bytes of text cost %.0f more bytes of allocation", len(s2)-len(s1), a2-a1)
			}
		})
	}
	t.Run("bytes allocated proportional to the input", func(t *testing.T) {
		s, err := c.Serialize(typicalSession())
		if err != nil {
			t.Fatal(err)
		}
		a := bytesPerRun(50, func() {
			if _, err := c.Deserialize(s); err != nil {
				t.Fatal(err)
			}
		})
		// The value, its arrays and its map take a few times the text;
		// copying the text per field, or a scratch buffer per call, would
		// take many times it.
		t.Logf("decoding %d bytes allocates %.0f bytes", len(s), a)
		if limit := 8 * float64(len(s)); a > limit {
			t.Fatalf("decoding %d bytes allocated %.0f bytes, want at most %.0f", len(s), a, limit)
		}
	})
}

func TestBoundsNesting(t *testing.T) {
	nested := func(levels int) list {
		l := list{}
		for range levels - 1 {
			l = list{l}
		}
		return l
	}
	lists := func(levels int) string { return strings.Repeat("[1|", levels-1) + "[0|" }
	type holder struct{}
	tests := []struct {
		name string
		run  func() error
		ok   bool
	}{
		{"64 levels encode", func() error { _, err := For[list]().Serialize(nested(maxDepth)); return err }, true},
		{"65 levels refused by Serialize", func() error { _, err := For[list]().Serialize(nested(maxDepth + 1)); return err }, false},
		{"64 levels decode", func() error { return decodeBody[list](lists(maxDepth)) }, true},
		{"65 levels refused by Deserialize", func() error { return decodeBody[list](lists(maxDepth + 1)) }, false},
		{"a million levels refused without overflow", func() error { return decodeBody[*node](strings.Repeat("&(Next", 1_000_000)) }, false},
		{"64 levels in a skipped field decode", func() error { return decodeBody[holder]("(X" + lists(maxDepth-1) + ")") }, true},
		{"65 levels in a skipped field refused", func() error { return decodeBody[holder]("(X" + lists(maxDepth) + ")") }, false},
		{"a million levels in a skipped field refused", func() error { return decodeBody[holder]("(X" + strings.Repeat("&", 1_000_000)) }, false},
		{"cyclic value refused by Serialize", func() error {
			n := &node{V: 1}
			n.Next = n
			_, err := For[*node]().Serialize(n)
			if err != nil && !strings.Contains(err.Error(), "deeper than 64") {
				return nil // the wrong refusal: fail below
			}
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestRejectsNonCanonical checks that each value has one encoding: every bad
// text is paired with the canonical text of the same value, which must
// decode, so a case cannot pass by failing for another reason.
func TestRejectsNonCanonical(t *testing.T) {
	type ab struct {
		A int
		B int
	}
	type zeros struct {
		B bool
		D time.Duration
		F float64
		I inner
		N int
		P *int
		S string
		T time.Time
	}
	tests := []struct {
		name      string
		decode    func(string) error
		bad, good string
	}{
		{"int leading zero", decodeBody[int], "=01|", "=1|"},
		{"int zero padded", decodeBody[int], "=00|", "=0|"},
		{"int negative zero", decodeBody[int], "=-0|", "=0|"},
		{"int plus sign", decodeBody[int], "=+1|", "=1|"},
		{"int empty", decodeBody[int], "=|", "=0|"},
		{"int8 overflow", decodeBody[int8], "=128|", "=127|"},
		{"int8 underflow", decodeBody[int8], "=-129|", "=-128|"},
		{"int64 overflow", decodeBody[int64], "=9223372036854775808|", "=9223372036854775807|"},
		{"uint negative", decodeBody[uint], "=-1|", "=1|"},
		{"uint8 overflow", decodeBody[uint8], "=256|", "=255|"},
		{"uint64 overflow", decodeBody[uint64], "=18446744073709551616|", "=18446744073709551615|"},
		{"int with space", decodeBody[int], "=1 |", "=1|"},
		{"int without tag", decodeBody[int], "1|", "=1|"},
		{"bool digit", decodeBody[bool], "1", "+"},
		{"bool letter", decodeBody[bool], "t", "+"},
		{"float trailing zero", decodeBody[float64], "^1.0|", "^1|"},
		{"float exponent", decodeBody[float64], "^1e0|", "^1|"},
		{"float capital exponent", decodeBody[float64], "^1E+21|", "^1e+21|"},
		{"float long form", decodeBody[float64], "^1000000000000000000000|", "^1e+21|"},
		{"float hex", decodeBody[float64], "^0x1p-1|", "^0.5|"},
		{"float lowercase nan", decodeBody[float64], "^nan|", "^NaN|"},
		{"float unsigned inf", decodeBody[float64], "^Inf|", "^+Inf|"},
		{"float infinity", decodeBody[float64], "^+Infinity|", "^+Inf|"},
		{"float out of range", decodeBody[float32], "^1e39|", "^+Inf|"},
		{"float32 too precise", decodeBody[float32], "^0.10000000149011612|", "^0.1|"},
		{"float leading dot", decodeBody[float64], "^.5|", "^0.5|"},
		{"float integer tag", decodeBody[float64], "=1|", "^1|"},
		{"string escaped letter", decodeBody[string], ":*41|", ":A|"},
		{"string escaped space", decodeBody[string], ":*20|", ":+|"},
		{"string lowercase hex", decodeBody[string], ":*2b|", ":*2B|"},
		{"string raw space", decodeBody[string], ":a b|", ":a+b|"},
		{"string raw percent", decodeBody[string], ":100%|", ":100*25|"},
		{"string raw quote", decodeBody[string], `:"|`, ":*22|"},
		{"string raw non-ASCII", decodeBody[string], ":Jos\xc3\xa9|", ":Jos*C3*A9|"},
		{"string short escape", decodeBody[string], ":*4|", ":*7C|"},
		{"string base64 where plain is shorter", decodeBody[string], ":*=YQ|", ":a|"},
		{"string base64 of equal length", decodeBody[string], ":*=Sm9zw6k|", ":Jos*C3*A9|"},
		{"string plain one longer than base64", decodeBody[string], ":*C3*A9|", ":*=w6k|"},
		{"string plain where base64 is shorter", decodeBody[string], ":*E5*B1*B1*E7*94*B0|", ":*=5bGx55Sw|"},
		{"string base64 trailing bits", decodeBody[string], ":*=5bGx55SwYR|", ":*=5bGx55SwYQ|"},
		{"nil marker on a string", decodeBody[string], "~", ":~|"},
		{"bytes trailing bits", decodeBody[[]byte], "!YR|", "!YQ|"},
		{"bytes padded", decodeBody[[]byte], "!YQ==|", "!YQ|"},
		{"bytes standard alphabet", decodeBody[[]byte], "!+/8|", "!-_8|"},
		{"bytes impossible length", decodeBody[[]byte], "!YWJjZ|", "!YWJj|"},
		{"byte array trailing bits", decodeBody[[1]byte], "!YR|", "!YQ|"},
		{"time trailing zero", decodeBody[time.Time], "@1767225600.50|", "@1767225600.5|"},
		{"time zero fraction", decodeBody[time.Time], "@1767225600.0|", "@1767225600|"},
		{"time empty fraction", decodeBody[time.Time], "@1767225600.|", "@1767225600|"},
		{"time ten digit fraction", decodeBody[time.Time], "@1767225600.1234567891|", "@1767225600.123456789|"},
		{"time leading zero", decodeBody[time.Time], "@01767225600|", "@1767225600|"},
		{"time zero as seconds", decodeBody[time.Time], "@-62135596800|", "@|"},
		{"time out of range", decodeBody[time.Time], "@9223372036854775807|", "@9223372036854775|"},
		{"pointer without marker", decodeBody[*int], "=7|", "&=7|"},
		{"slice count leading zero", decodeBody[[]int], "[01|=7|", "[1|=7|"},
		{"slice count negative", decodeBody[[]int], "[-1|=7|", "[1|=7|"},
		{"map keys unsorted", decodeBody[map[string]int], "{2|:b|=1|:a|=2|", "{2|:a|=2|:b|=1|"},
		{"map keys repeated", decodeBody[map[string]int], "{2|:a|=1|:a|=2|", "{1|:a|=2|"},
		{"map int keys unsorted", decodeBody[map[int]int], "{2|=1|=0|=-1|=0|", "{2|=-1|=0|=1|=0|"},
		{"map uint keys repeated", decodeBody[map[uint]int], "{2|=1|=0|=1|=0|", "{1|=1|=0|"},
		{"fields out of order", decodeBody[ab], "(B=1|A=2|)", "(A=2|B=1|)"},
		{"field repeated", decodeBody[ab], "(A=1|A=2|)", "(A=2|)"},
		{"field key empty", decodeBody[ab], "(=1|)", "()"},
		{"field zero int", decodeBody[zeros], "(N=0|)", "()"},
		{"field zero bool", decodeBody[zeros], "(B-)", "(B+)"},
		{"field zero duration", decodeBody[zeros], "(D$0|)", "(D$1|)"},
		{"field zero float", decodeBody[zeros], "(F^0|)", "(F^-0|)"},
		{"field zero struct", decodeBody[zeros], "(I())", "(I(N=1|))"},
		{"field nil pointer", decodeBody[zeros], "(P~)", "(P&=0|)"},
		{"field zero string", decodeBody[zeros], "(S:|)", "()"},
		{"field zero time", decodeBody[zeros], "(T@|)", "()"},
		{"skipped fields out of order", decodeBody[ab], "(Y=1|X=1|)", "(X=1|Y=1|)"},
		{"skipped field repeated", decodeBody[ab], "(X=1|X=2|)", "(X=1|)"},
		{"skipped field zero", decodeBody[ab], "(X=0|)", "()"},
		{"skipped field integer", decodeBody[ab], "(X=01|)", "(X=1|)"},
		{"skipped field duration range", decodeBody[ab], "(X$9223372036854775808|)", "(X$-9223372036854775808|)"},
		{"skipped field float", decodeBody[ab], "(X^1.0|)", "(X^1|)"},
		{"skipped field string", decodeBody[ab], "(X:*41|)", "(X:A|)"},
		{"skipped field bytes", decodeBody[ab], "(X!YR|)", "(X!YQ|)"},
		{"skipped field time", decodeBody[ab], "(X@1.50|)", "(X@1.5|)"},
		{"skipped field nested keys", decodeBody[ab], "(X(B=1|A=1|))", "(X(A=1|B=1|))"},
		{"skipped field nested zero", decodeBody[ab], "(X(A~))", "(X(A&~))"},
		{"skipped field map key", decodeBody[ab], "(X{1|+=1|)", "(X{1|=1|+)"},
		{"skipped field unknown tag", decodeBody[ab], "(X%)", "(X+)"},
		{"retyped field skipped with its checks", decodeBody[ab], "(A:*41|)", "(A:A|)"},
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
}

func TestKeepsNilApartFromEmpty(t *testing.T) {
	type holder struct {
		S []int
		B []byte
		M map[string]int
		P *[]int
	}
	c := For[holder]()
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

func TestTimeKeepsInstantInUTC(t *testing.T) {
	zone := time.FixedZone("UTC-7", -7*3600)
	in := time.Now().In(zone) // carries a monotonic reading
	c := For[time.Time]()
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

// TestRefusesTimeOutsideRange covers the times whose Unix seconds time.Unix
// cannot map back: Serialize refuses them rather than write a text that
// decodes to another instant.
func TestRefusesTimeOutsideRange(t *testing.T) {
	c := For[time.Time]()
	for _, tm := range []time.Time{
		time.Unix(math.MinInt64, 0).Add(-time.Hour), // wraps around in t.Unix()
		time.Unix(maxUnix+1, 0),                     // wraps around inside time.Unix
	} {
		if _, err := c.Serialize(tm); err == nil {
			t.Fatalf("Serialize accepted a time with Unix seconds %d", tm.Unix())
		}
	}
	for _, tm := range []time.Time{time.Unix(math.MinInt64, 0), time.Unix(maxUnix, 999999999)} {
		roundTrip(t, tm, tm.UTC())
	}
}

func TestErrorsDoNotQuoteContent(t *testing.T) {
	const secret = "s3cr3tT0k3n"
	c := For[session]()
	s, _ := c.Serialize(session{User: secret, CSRF: []byte(secret)})
	for _, bad := range []string{
		"2(User:" + secret + " |)",  // invalid byte in the string
		"2(ID=" + secret + "|)",     // invalid integer
		"2(CSRF!" + secret + "*|)",  // invalid base64
		"2(Zzz:" + secret + "%|)",   // invalid byte in a skipped field
		s[:12] + secret,             // truncated
		s + secret,                  // trailing
		"2=" + secret + "|",         // another type
		secret + s,                  // another version
		"2(User=" + secret + "|)",   // retyped field, malformed
		"2(Admin:" + secret + "*|)", // retyped field, malformed
	} {
		_, err := c.Deserialize(bad)
		if err == nil {
			t.Fatalf("malformed input decoded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error %q quotes the input", err)
		}
	}
}

func TestErrorsWrapTheirKind(t *testing.T) {
	c := For[session]()
	tests := []struct {
		name string
		text string
		want error
	}{
		{"malformed", "2(User:a b|)", ErrMalformed},
		{"trailing bytes", "2()x", ErrMalformed},
		{"root of another kind", "2[0|", ErrMismatch},
		{"another version", "1()", ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Deserialize(tt.text); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, tt.want)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	c := For[kinds]()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				v := fullValue()
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

// TestNoValueCarriesOverBetweenCalls decodes, one after the other and
// from many goroutines, a full session and texts that hold fewer fields:
// every field a text does not hold must come back zero. Serialize and
// Deserialize work in pooled values, and one that went back to the pool
// holding a session would hand its fields to the next caller, another
// user's request.
func TestNoValueCarriesOverBetweenCalls(t *testing.T) {
	c := For[session]()
	full, err := c.Serialize(typicalSession())
	if err != nil {
		t.Fatal(err)
	}
	fewer := []session{{}, {User: "bob"}, {ID: 7, Admin: true}, {Roles: []string{}}}
	texts := make([]string, len(fewer))
	for i, v := range fewer {
		if texts[i], err = c.Serialize(v); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if _, err := c.Deserialize(full); err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Serialize(typicalSession()); err != nil {
					t.Error(err)
					return
				}
				// A failed decode must not leave its partial value
				// behind either.
				_, _ = c.Deserialize(full[:len(full)-3])
				k := i % len(fewer)
				got, err := c.Deserialize(texts[k])
				if err != nil || !equalValues(got, fewer[k]) {
					t.Errorf("decoding %q after a full session gave %+v, %v; want %+v", texts[k], got, err, fewer[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestEncoderScratchIsZeroAfterUse encodes into one encoder a large value,
// a smaller one, and values that fail inside a map, and checks after each
// that reset left no byte of it anywhere in the scratch buffers' capacity:
// a pooled encoder must not carry one session into memory that the next
// caller, or a later bug, could read.
func TestEncoderScratchIsZeroAfterUse(t *testing.T) {
	type withTimes struct {
		M map[string]time.Time
	}
	long := strings.Repeat("secret-", 200)
	large := typicalSession()
	large.User = long
	large.Cart = map[string]int{long + "a": 1, long + "b": 2, "c": 3}
	small := session{Cart: map[string]int{"x": 1}}
	// One time out of range among good ones: map order is random, and the
	// failure leaves the entries encoded before it in ents.
	tooLate := withTimes{M: map[string]time.Time{long: time.Unix(maxUnix+1, 0)}}
	for i := range 15 {
		tooLate.M[long+strconv.Itoa(i)] = time.Unix(int64(i+1), 0)
	}
	e := new(encoder)
	check := func(what string) {
		t.Helper()
		for i, c := range e.buf[:cap(e.buf)] {
			if c != 0 {
				t.Fatalf("after %s: buf[%d] is %q", what, i, c)
			}
		}
		for i, c := range e.tmp[:cap(e.tmp)] {
			if c != 0 {
				t.Fatalf("after %s: tmp[%d] is %q", what, i, c)
			}
		}
		for i, ent := range e.ents[:cap(e.ents)] {
			if ent != (mapEntry{}) {
				t.Fatalf("after %s: ents[%d] is not zero", what, i)
			}
		}
	}
	encode := func(what string, p *plan, v reflect.Value, wantErr bool) {
		t.Helper()
		e.buf = append(e.buf[:0], Version)
		if err := e.encode(p, v, 0); (err != nil) != wantErr {
			t.Fatalf("%s: error %v", what, err)
		}
		e.reset()
		check(what)
	}
	sessionPlan, timesPlan := For[session]().root.plan, For[withTimes]().root.plan
	encode("a large value", sessionPlan, reflect.ValueOf(&large).Elem(), false)
	encode("a smaller value", sessionPlan, reflect.ValueOf(&small).Elem(), false)
	for range 8 {
		encode("a failure inside a map", timesPlan, reflect.ValueOf(&tooLate).Elem(), true)
	}
	encode("a large value again", sessionPlan, reflect.ValueOf(&large).Elem(), false)
}

func TestBase64MatchesStandardLibrary(t *testing.T) {
	strict := base64.RawURLEncoding.Strict()
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 200 {
		b := make([]byte, n)
		fill(r, b)
		enc := string(encodeBase64(nil, b))
		if want := base64.RawURLEncoding.EncodeToString(b); enc != want {
			t.Fatalf("encoding of %d bytes is %q, want %q", n, enc, want)
		}
		if got := string(encodeBase64(nil, string(b))); got != enc {
			t.Fatal("string and []byte encodings differ")
		}
		dst := make([]byte, len(enc)*3/4)
		if !decodeBase64(dst, enc) || !bytes.Equal(dst, b) || !validBase64(enc) {
			t.Fatalf("decoding %q failed", enc)
		}
		if n > 70 {
			continue
		}
		// Every single-character change is rejected exactly when the
		// strict standard decoder rejects it, newlines aside.
		for i := range len(enc) {
			for _, c := range []byte("A_-+/=\n.Q") {
				mut := enc[:i] + string(c) + enc[i+1:]
				_, stdErr := strict.DecodeString(mut)
				ok := decodeBase64(make([]byte, len(mut)*3/4), mut)
				if ok != validBase64(mut) {
					t.Fatalf("%q: decodeBase64 and validBase64 disagree", mut)
				}
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

// TestExactDecodeRefusesOtherTypesTexts pins what the fuzz targets rely on:
// the exact decode accepts only what the type itself writes.
func TestExactDecodeRefusesOtherTypesTexts(t *testing.T) {
	type ab struct {
		A [2]int
		B int8
	}
	tests := []struct {
		name string
		body string
	}{
		{"unknown field", "(C=1|)"},
		{"field of another kind", "(B:x|)"},
		{"integer out of range", "(B=300|)"},
		{"array of zeros", "(A[2|=0|=0|)"},
		{"list of another length", "(A[3|=1|=2|=3|)"},
	}
	c := For[ab]()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Deserialize("2" + tt.body); err != nil {
				t.Fatalf("lenient decode refused: %v", err)
			}
			if _, err := c.decode("2"+tt.body, true); err == nil {
				t.Fatal("exact decode accepted")
			}
		})
	}
}

// TestDeserializeIntoIsDeserializeInPlace: decoding into a value of the
// caller's gives what Deserialize returns, error for error, and leaves the
// zero value, not a partial one, when the text fails after some fields.
func TestDeserializeIntoIsDeserializeInPlace(t *testing.T) {
	type inner struct{ N int }
	type session struct {
		User  string
		Roles []string
		In    *inner
		When  time.Time
	}
	c := For[session]()
	good, err := c.Serialize(session{User: "ann", Roles: []string{"a", "b"}, In: &inner{7}, When: time.Unix(1_700_000_000, 5)})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		good,
		good[:len(good)-1],         // truncated after every field
		good + "x",                 // trailing bytes
		"2[1|:x|",                  // another kind at the root
		"1" + good[1:],             // another version
		"2(Roles[2|:a|:b|User:|)",  // a zero field after others
		"2(In&(N=7|)Roles[1|:a|x)", // malformed after a pointer
		"2(User:ann|Roles[1|:a|)",  // keys out of order
	}
	for _, text := range texts {
		want, wantErr := c.Deserialize(text)
		var got session
		gotErr := c.DeserializeInto(text, &got)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("%q: DeserializeInto error %v; Deserialize's %v", text, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: DeserializeInto gave %+v; Deserialize %+v", text, got, want)
		}
		if gotErr != nil && !reflect.DeepEqual(got, session{}) {
			t.Fatalf("%q: DeserializeInto left %+v after an error; want the zero value", text, got)
		}
	}
}
