package compact

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// session is the typical session value, used by the size test, the
// benchmarks and the fuzz targets.
type session struct {
	User    string
	ID      int64
	Roles   []string
	Admin   bool
	Expires time.Time
	CSRF    []byte
	Cart    map[string]int
}

func typicalSession() session {
	return session{
		User:    "ann.smith@example.com",
		ID:      1234567,
		Roles:   []string{"admin", "editor"},
		Admin:   true,
		Expires: time.Date(2026, 1, 8, 10, 4, 5, 123456789, time.UTC),
		CSRF:    []byte(strings.Repeat("\x5a\xc3", 16)),
		Cart:    map[string]int{"apple": 3, "pear": 12},
	}
}

type inner struct {
	Name string
	N    int
}

type embedded struct {
	FromUnexported string
	At             time.Time
}

type namedByte uint8

// Exported is embedded under an exported name.
type Exported struct{ FromExported int }

type role string

// kinds holds every supported kind, so that one value exercises the whole
// codec.
type kinds struct {
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
	Role  role
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
	PS    *inner
	Inner inner
	Nest  [][]inner
	Set   map[string]struct{}
	Tag   string `session:"t"`
	Skip  string `session:"-"`
	embedded
	Exported
	hidden int //nolint:unused // proves unexported fields are skipped
}

// node is a recursive type: a list through a pointer and a tree through a
// slice and a map.
type node struct {
	V        int
	Next     *node
	Kids     []node
	Children map[string]*node
}

// list nests through slices alone.
type list []list

// alphabet is the output alphabet, RFC 6265 cookie-octets other than '%',
// written out independently of the codec's own table.
const alphabet = "!#$&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"

func checkAlphabet(t testing.TB, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			t.Fatalf("output byte %d is %q, outside the cookie-safe alphabet", i, s[i])
		}
	}
}

// equal is reflect.DeepEqual on the encoded fields, except that NaN equals
// NaN, so that round trips of NaN can be checked.
func equal(a, b reflect.Value) bool {
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
		return equal(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !equal(a.Index(i), b.Index(i)) {
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
			if !bv.IsValid() || !equal(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if a.Type() == timeType {
			return reflect.DeepEqual(a.Interface(), b.Interface())
		}
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if f.IsExported() && f.Tag.Get("session") != "-" && !equal(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

func equalValues[T any](a, b T) bool {
	return equal(reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem())
}

// roundTrip encodes in, checks the alphabet, decodes (leniently and
// exactly), and compares with want (in, after the documented
// normalisations).
func roundTrip[T any](t testing.TB, in, want T) string {
	t.Helper()
	c := For[T]()
	s, err := c.Serialize(in)
	if err != nil {
		t.Fatalf("Serialize: %v", err)
	}
	checkAlphabet(t, s)
	for _, exact := range []bool{false, true} {
		got, err := c.decode(s, exact)
		if err != nil {
			t.Fatalf("decode(Serialize(v), exact=%v): %v", exact, err)
		}
		if !equalValues(got, want) {
			t.Fatalf("round trip changed the value:\n got %#v\nwant %#v", got, want)
		}
		again, err := c.Serialize(got)
		if err != nil || again != s {
			t.Fatalf("re-encoding the decoded value gave a different text (err %v)", err)
		}
	}
	return s
}

// same is a round-trip case whose value comes back unchanged.
func same[T any](v T) func(*testing.T) {
	return func(t *testing.T) { roundTrip(t, v, v) }
}

// as is a round-trip case whose value comes back normalised as want.
func as[T any](in, want T) func(*testing.T) {
	return func(t *testing.T) { roundTrip(t, in, want) }
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// fullValue returns a kinds with every encoded field set.
func fullValue() kinds {
	s := "pointed to"
	ps := &s
	return kinds{
		B: true, I: -1, I8: math.MinInt8, I16: math.MaxInt16, I32: math.MinInt32, I64: math.MaxInt64,
		U: 7, U8: math.MaxUint8, U16: 300, U32: math.MaxUint32, U64: math.MaxUint64, UP: 12345,
		F32: -1.5, F64: math.Pi, S: "Ann Smith <ann+tag@example.com>", Role: "admin",
		Bytes: []byte{0, 1, 2, 0xff}, Arr: [3]int{-1, 0, 1}, BArr: [5]byte{'h', 'e', 'l', 'l', 'o'},
		T: time.Date(2026, 1, 1, 12, 30, 0, 123456789, time.UTC), D: -90 * time.Minute,
		Sl: []string{"a", "", "c"}, M: map[string]int{"b": 2, "a": 1, "": 0}, MI: map[int64]string{-5: "minus", 5: "plus"},
		MU: map[uint8]bool{0: false, 255: true}, P: ptr(42), PP: &ps, PS: &inner{"x", 1},
		Inner: inner{"inner", -2}, Nest: [][]inner{nil, {}, {{"n", 3}}}, Set: map[string]struct{}{"k": {}},
		Tag:      "tagged",
		embedded: embedded{"promoted", time.Unix(1e9, 1).UTC()}, Exported: Exported{9},
	}
}

// decodeBody decodes body after the version byte as a T.
func decodeBody[T any](body string) error {
	_, err := For[T]().Deserialize(string(Version) + body)
	return err
}

// evolve encodes w with its type W and decodes the text as an R: what a
// deploy that changes W into R meets.
func evolve[W, R any](t testing.TB, w W) R {
	t.Helper()
	s, err := For[W]().Serialize(w)
	if err != nil {
		t.Fatalf("Serialize: %v", err)
	}
	r, err := For[R]().Deserialize(s)
	if err != nil {
		t.Fatalf("decoding a %T as a %T: %v", w, r, err)
	}
	// What was read encodes canonically for R.
	again, err := For[R]().Serialize(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := For[R]().decode(again, true); err != nil {
		t.Fatalf("re-encoded value does not decode exactly: %v", err)
	}
	return r
}

// evolves is a case of a deploy: w, written as a W, reads as want.
func evolves[W, R any](w W, want R) func(*testing.T) {
	return func(t *testing.T) {
		t.Helper()
		if got := evolve[W, R](t, w); !equalValues(got, want) {
			t.Fatalf("read\n %#v\nwant\n %#v", got, want)
		}
	}
}

// bytesPerRun returns the heap bytes f allocates per call, averaged over
// runs calls. It counts bytes, not allocations: a sync.Pool that the race
// detector empties at random moves allocation counts, while what the
// tests bound is growth with the input, which no pool hides.
func bytesPerRun(runs int, f func()) float64 {
	f() // plans and other one-time work
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}
