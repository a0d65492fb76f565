// Package compact is the encoding behind sessions.Compact: a reflection
// based codec whose output is cookie-safe text, smaller than base64url(JSON),
// and which keeps working when the session type changes between the write
// and the read, the way protobuf does.
//
// # Evolution
//
// Struct fields are written with a key: the field's name, or the key that a
// `session:"key"` tag pins, so that a field can be renamed in Go and keep
// its values. A tag of "-" leaves the field out. A text written by one
// definition of a struct decodes with another as follows, at every level
// (nested structs, slices, arrays and maps of structs, pointers to them):
//
//   - A field the text does not hold decodes as its zero value: fields
//     added since, and fields that held their zero value when written, for
//     zero values are never written.
//   - A field of the text that the type does not have is skipped: fields
//     removed since.
//   - The order of the fields in Go does not matter: the text orders them
//     by key.
//   - A field whose value in the text is of another kind than the field's
//     type (a string where an int is now, a struct where a map is now, a
//     list of strings where a list of ints is now...) is left zero, and the
//     rest of the value is kept. The same holds for a number the field's
//     type cannot hold: 300 in an int8, -1 in a uint, math.Pi (written by
//     a float64) in a float32, and for a list whose length differs from an
//     array's. The field is never set to a wrong value: the text says
//     which kind each value is, so a mismatch is always seen, and the
//     whole field is then skipped and left zero, however deep inside it
//     the mismatch was.
//   - Integer kinds are one kind: a field may change among int, int8...
//     int64, uint... uintptr and keeps every value its new type can hold.
//     float32 and float64 are one kind the same way: a float is read as the
//     decimal its text says, which a float32 holds when that decimal is
//     also the shortest form of a float32 (0.1, 0.5, 1e+10, but not
//     math.Pi). Named types are their
//     kind: type Role string reads a string. time.Duration is a kind of its
//     own, not an integer (seconds read as nanoseconds would be a wrong
//     value), as are time.Time, strings, byte slices and arrays (which
//     read each other), and bools. A pointer is a kind of its own too:
//     changing T to *T leaves the field zero.
//
// A value read so holds only the fields its type knows, and is written
// again without the others: after a deploy that removed a field and its
// rollback, the field is zero in the sessions written in between.
//
// Only when the root value itself is of another kind, or the text is not
// in the grammar or not in its canonical form, does decoding fail. The failure is an error, never a
// panic, for any input, and the zero value is returned with it.
//
// # What is encoded
//
// bool; every int and uint kind including uintptr; float32 and float64
// (NaN and ±Inf included; every NaN decodes as the one math.NaN); string;
// slices, including []byte and other slices of a byte kind; arrays; maps
// whose key kind is a string or integer kind; pointers; structs, of which
// only exported fields are encoded (an embedded struct is one field, keyed
// by its type name, also when its type is unexported, so its exported
// fields are kept as encoding/json keeps them); time.Time and
// time.Duration.
//
// Refused with an error that names the field path and wraps
// errors.ErrUnsupported, from Serialize and Deserialize alike: chan, func,
// complex, unsafe.Pointer, interface types (the decoder could not know
// which concrete type to build), maps with other key kinds, structs other
// than time.Time that have fields but no exported one (such as netip.Addr
// or big.Int: their value would be lost silently), embedded pointers to
// unexported struct types (the decoder cannot allocate them), fields whose
// name is not ASCII letters, digits and '_' and that have no tag, tags
// that are not such a key, and two fields of one struct with one key.
//
// Values nest at most 64 levels deep (every struct, array, slice, map and
// pointer is a level, except time.Time and byte slices and arrays); the
// encoder refuses a deeper value, including a cyclic one, and the decoder
// deeper input, so neither can exhaust the stack. Recursive types are
// supported.
//
// Round trips are exact, with three normalisations: time.Time comes back
// in UTC without its monotonic clock reading (the instant is kept to the
// nanosecond, so t.Equal holds); NaN payloads are not kept; and decoded
// strings may share memory with the text. Nil and empty slices and maps,
// and nil and non-nil pointers, are told apart.
//
// # Grammar (version 2)
//
// The text uses only RFC 6265 cookie-octets other than '%' (CookieSafe):
// no space, '"', ',', ';', '\', '%', control or non-ASCII byte.
//
//	text    = version value
//	version = "2"
//	value   = "+" | "-"                        ; bool true, false
//	        | "=" integer "|"                  ; every int and uint kind
//	        | "^" float "|"                    ; float32, float64
//	        | ":" string "|"                   ; string kinds
//	        | "!" base64 "|"                   ; []byte, [N]byte
//	        | "@" time "|"                     ; time.Time
//	        | "$" integer "|"                  ; time.Duration
//	        | "~"                              ; nil pointer, slice, []byte, map
//	        | "&" value                        ; non-nil pointer
//	        | "[" count "|" *value             ; slice, array
//	        | "{" count "|" *(value value)     ; map: key, then value
//	        | "(" *(key value) ")"             ; struct
//	key     = 1*( ALPHA | DIGIT | "_" )
//
// The version is one byte, so that a later grammar can tell its own texts
// from these and still read them. Version 1 was positional and began with
// a fingerprint of the type's shape; its texts are refused.
//
//   - integer: decimal, "-" before negatives, no "+", no "-0", no leading
//     zeros: "0", "-12", "18446744073709551615". count: the same, never
//     negative.
//   - float: the shortest decimal that parses back to the same value, as
//     strconv.FormatFloat(f, 'g', -1, bits) writes it for the value's own
//     size: "0.5", "-0", "1e+21", "NaN", "+Inf", "-Inf".
//   - string: bytes of the alphabet other than '*', '+' and '|' stand for
//     themselves, a space is "+", and every other byte is "*" and two
//     uppercase hex digits (UpperHex): "a*2Bb" for "a+b", "Jos*C3*A9" for
//     "José". When "*=" followed by the unpadded base64url of the string is
//     shorter than that, it is written so instead: "*=5bGx55Sw" for "山田".
//   - base64: unpadded base64url with zero trailing bits; a [N]byte has
//     exactly the length of N bytes.
//   - time: "" for the zero Time; else the Unix seconds t.Unix() as an
//     integer, then, unless the nanoseconds within the second are zero,
//     "." and those nanoseconds as 9 digits without their trailing zeros:
//     "1767225600", "1767225600.5". The fraction is always added, so
//     "-1.25" is -0.75 s.
//   - slice and array: the number of elements, then each element. An array
//     is read from a list of its length.
//   - map: the number of entries, then each key and its value, keys of the
//     string or integer form, in strictly increasing order (bytewise for
//     strings, numeric for integers).
//   - struct: every field whose value is not the zero value of its type,
//     as its key and its value, in strictly increasing bytewise order of
//     keys, then ")".
//
// For example, struct{ User string; ID int64; Roles []string; Admin bool }
// holding {"ann@example.com", 42, ["admin"], false} is
//
//	2(ID=42|Roles[1|:admin|User:ann@example.com|)
//
// # Canonical form
//
// Each value of a type has one encoding, so that a client cannot craft
// several texts for one value: the decoder refuses leading zeros, "+" or
// "-0" on integers, an escape where none is needed, lowercase hex, a float
// in other than its shortest form, a base64 string where the plain form is
// no longer (or the reverse), nonzero trailing bits in base64, a fraction
// of time with trailing zeros, map keys or field keys out of order or
// repeated, a field written with a zero value ("-", "=0|", "^0|", ":|",
// "@|", "$0|", "~" or "()"), and bytes after the value. A skipped field's
// value is checked the same way, except that the keys of a map it holds
// are not checked for order. Texts written by another definition of the
// type decode to the value this one reads, which then encodes without the
// skipped fields.
//
// A count is refused, before anything is allocated, when the input left is
// too short to hold that many elements.
package compact

import (
	"errors"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// Version is the first byte of every text of this grammar.
const Version = '2'

// UpperHex is the alphabet of the two-digit escapes, here in strings and in
// the %XX escapes of the cookie transport: uppercase only, so that a byte
// has one escape.
const UpperHex = "0123456789ABCDEF"

// CookieSafe reports whether c is an RFC 6265 cookie-octet other than '%':
// a byte that may travel in a cookie or header value as it is. Every byte
// of every text this package writes is one.
func CookieSafe(c byte) bool { return cookieSafe[c] }

var (
	// ErrMalformed is wrapped by the errors of texts outside the grammar,
	// or in a non-canonical form of it.
	ErrMalformed = errors.New("malformed or non-canonical text")
	// ErrVersion is wrapped by the errors of texts of an unknown grammar
	// version, including version 1.
	ErrVersion = errors.New("unknown grammar version")
	// ErrMismatch is wrapped by the errors of texts whose root value is of
	// another kind than the decoding type.
	ErrMismatch = errors.New("value of another type")
)

// Codec encodes and decodes values of T. It is safe for concurrent use.
// Its methods are named after sessions.Serializer, which it implements.
type Codec[T any] struct {
	root *root
}

// For returns the Codec of T. The plan it runs is built on the first call
// for T and shared by every later one.
func For[T any]() *Codec[T] {
	return &Codec[T]{root: rootFor(reflect.TypeFor[T]())}
}

// Serialize returns the text of v.
func (c *Codec[T]) Serialize(v T) (string, error) {
	r := c.root
	if r.err != nil {
		return "", r.err
	}
	// Encoding reads v through reflect, which needs it addressable: a
	// pooled box spares the heap copy that taking &v would cost.
	box := getBox[T](r)
	*box = v
	e := encoderPool.Get().(*encoder)
	e.buf = append(e.buf[:0], Version)
	err := e.encode(r.plan, reflect.ValueOf(box).Elem(), 0)
	var s string
	if err == nil {
		s = string(e.buf)
	}
	e.release()
	putBox(r, box)
	return s, err
}

// Deserialize returns the value of text s, read as described in the
// package documentation: fields it does not know are skipped, fields of
// another kind left zero.
func (c *Codec[T]) Deserialize(s string) (T, error) { return c.decode(s, false) }

// DeserializeInto is Deserialize into *dst, which must hold the zero T:
// a caller that keeps the value in memory of its own decodes it there,
// without the copies in and out of a pooled box. On error *dst is the zero
// T again.
func (c *Codec[T]) DeserializeInto(s string, dst *T) error {
	err := c.decodeInto(s, dst, false)
	if err != nil {
		var zero T
		*dst = zero
	}
	return err
}

// decode is Deserialize; exact also refuses every text that T itself
// would not write (unknown fields, fields of another kind or range, zero
// arrays), which is what proves the encoding canonical: a text that
// decodes exactly encodes back to itself.
func (c *Codec[T]) decode(s string, exact bool) (T, error) {
	var v T
	box := getBox[T](c.root)
	err := c.decodeInto(s, box, exact)
	if err == nil {
		v = *box
	}
	putBox(c.root, box)
	return v, err
}

// decodeInto decodes s into *dst, which holds the zero T; on error *dst
// may hold part of the value.
func (c *Codec[T]) decodeInto(s string, dst *T, exact bool) error {
	r := c.root
	if r.err != nil {
		return r.err
	}
	if len(s) == 0 || s[0] != Version {
		return errVersion
	}
	d := decoder{s: s, pos: 1, exact: exact}
	err := d.decode(r.plan, reflect.ValueOf(dst).Elem(), 0)
	if err == nil && d.pos != len(s) {
		err = d.fail("unexpected bytes after the value")
	}
	if err == errMismatch {
		err = d.rootMismatch()
	}
	return err
}

// getBox returns a zero T of r's type from r's pool, or a new one. A box
// makes a value addressable for reflect without an allocation per call.
func getBox[T any](r *root) *T {
	if b, ok := r.boxes.Get().(*T); ok {
		return b
	}
	return new(T)
}

// putBox zeroes b and returns it to r's pool. Zeroing keeps one call's
// session value, and what it points to, from reaching a later call or
// staying reachable from the pool.
func putBox[T any](r *root, b *T) {
	var zero T
	*b = zero
	r.boxes.Put(b)
}

// errVersion is built once: a text of another version is the common
// refusal after a deploy, and needs no offset.
var errVersion error = &wrapped{
	msg: "sessions: compact: decode: " + ErrVersion.Error() + " (written by another version of the encoding?)",
	err: ErrVersion,
}

// wrapped is an error with a fixed message that wraps err.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

const (
	// maxDepth bounds the nesting of values on both encode and decode.
	// Decode input is chosen by the client, so without a bound a recursive
	// type would let it drive the decoder's recursion until the stack
	// overflows.
	maxDepth = 64

	// minLenCap keeps minimum-length arithmetic from overflowing on huge
	// array types; any value above the longest possible input will do.
	minLenCap = 1 << 30
)

// kind is the encoding a plan node uses, a refinement of reflect.Kind.
type kind uint8

const (
	kindBool kind = iota + 1
	kindInt
	kindUint
	kindFloat
	kindString
	kindBytes     // slice of a byte kind
	kindByteArray // array of a byte kind
	kindTime
	kindDuration
	kindPtr
	kindSlice
	kindArray
	kindMap
	kindStruct
)

// plan is the compiled encoding of one type at one place in a root type.
// Plans are immutable once built and shared by every call, which is what
// makes a Codec safe for concurrent use. A recursive type is a plan graph
// with cycles.
type plan struct {
	kind kind
	typ  reflect.Type
	path string // the field path, for error messages
	bits int    // size of ints, uints and floats
	n    int    // array length; for byte arrays, the base64 length
	// minLen is the fewest bytes a value of typ encodes to as an element
	// of a list or map: what bounds a count by the input left.
	minLen int
	elem   *plan
	key    *plan
	fields []field // in increasing order of key
	// entry is struct{ K key; V elem } for maps: one allocation of it
	// gives both scratch values a map encode or decode needs.
	entry reflect.Type
}

// mapScratch returns a settable key and value for map plan p, zero.
func (p *plan) mapScratch() (key, val reflect.Value) {
	e := reflect.New(p.entry).Elem()
	return e.Field(0), e.Field(1)
}

type field struct {
	key   string
	index int
	plan  *plan
}

// root is everything a Codec needs for one type T.
type root struct {
	plan *plan
	err  error
	// boxes holds zero *T values for Serialize and Deserialize (see
	// getBox): one T per root, so the type assertion always holds.
	boxes sync.Pool
}

// roots caches one root per type: For may be called more than once for a
// type (tests, several providers), and compiling costs far more than a
// lookup.
var roots sync.Map // reflect.Type -> *root

func rootFor(t reflect.Type) *root {
	if r, ok := roots.Load(t); ok {
		return r.(*root)
	}
	c := compiler{}
	p, err := c.compile(t, t.String())
	r := &root{plan: p, err: err}
	if err != nil {
		r.plan = nil
	}
	actual, _ := roots.LoadOrStore(t, r)
	return actual.(*root)
}

// UnsupportedError reports a type the codec cannot encode. It wraps
// errors.ErrUnsupported, so that a caller can tell a programming error
// from bad input.
type UnsupportedError struct {
	Path string       // the field path, such as "main.Login.Cart[value]"
	Type reflect.Type // the type at Path
	Why  string
}

func (e *UnsupportedError) Error() string {
	return "sessions: compact: " + e.Path + " (" + e.Type.String() + "): " + e.Why
}

func (e *UnsupportedError) Unwrap() error { return errors.ErrUnsupported }

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
)

// compiler builds the plan of one root type.
type compiler struct {
	// stack holds the composite types being compiled, outermost first,
	// with their unfinished plans: meeting one of them again is a
	// recursive type, which becomes a cycle in the plan.
	stack []stackEntry
}

type stackEntry struct {
	typ  reflect.Type
	plan *plan
}

func unsupported(path string, t reflect.Type, why string) error {
	return &UnsupportedError{Path: path, Type: t, Why: why}
}

// compile returns the plan of t, found at path.
func (c *compiler) compile(t reflect.Type, path string) (*plan, error) {
	for _, s := range c.stack {
		if s.typ == t {
			return s.plan, nil
		}
	}
	p := &plan{typ: t, path: path}
	switch t {
	case timeType:
		p.kind, p.minLen = kindTime, 2
		return p, nil
	case durationType:
		p.kind, p.bits, p.minLen = kindDuration, 64, 3
		return p, nil
	}
	switch k := t.Kind(); k {
	case reflect.Bool:
		p.kind, p.minLen = kindBool, 1
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.kind, p.bits, p.minLen = kindInt, t.Bits(), 3
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.kind, p.bits, p.minLen = kindUint, t.Bits(), 3
	case reflect.Float32, reflect.Float64:
		p.kind, p.bits, p.minLen = kindFloat, t.Bits(), 3
	case reflect.String:
		p.kind, p.minLen = kindString, 2
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		return p, c.compileComposite(p, path)
	case reflect.Interface:
		return nil, unsupported(path, t, "interface types are not supported: the decoder could not know which concrete type to build")
	default: // chan, func, complex, unsafe.Pointer
		return nil, unsupported(path, t, k.String()+" values cannot be encoded")
	}
	return p, nil
}

func (c *compiler) compileComposite(p *plan, path string) error {
	t := p.typ
	c.stack = append(c.stack, stackEntry{t, p})
	defer func() { c.stack = c.stack[:len(c.stack)-1] }()
	var err error
	switch t.Kind() {
	case reflect.Pointer:
		p.kind, p.minLen = kindPtr, 1
		p.elem, err = c.compile(t.Elem(), path)
	case reflect.Slice:
		p.minLen = 1 // "~"
		if isByte(t.Elem()) {
			p.kind = kindBytes
			return nil
		}
		p.kind = kindSlice
		p.elem, err = c.compile(t.Elem(), path+"[elem]")
	case reflect.Array:
		if isByte(t.Elem()) {
			p.kind, p.n = kindByteArray, base64Len(t.Len())
			p.minLen = addCap(p.n, 2)
			return nil
		}
		p.kind, p.n = kindArray, t.Len()
		if p.elem, err = c.compile(t.Elem(), path+"[elem]"); err != nil {
			return err
		}
		// The element of an array cannot be on the stack (its type would
		// be infinite), so its minimum length is known.
		p.minLen = addCap(3, mulCap(p.n, p.elem.minLen))
	case reflect.Map:
		p.kind, p.minLen = kindMap, 1
		switch t.Key().Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			return unsupported(path, t, "map keys must be of a string or integer kind")
		}
		p.entry = reflect.StructOf([]reflect.StructField{{Name: "K", Type: t.Key()}, {Name: "V", Type: t.Elem()}})
		if p.key, err = c.compile(t.Key(), path+"[key]"); err != nil {
			return err
		}
		p.elem, err = c.compile(t.Elem(), path+"[value]")
	case reflect.Struct:
		p.kind, p.minLen = kindStruct, 2 // "()"
		err = c.compileStruct(p, path)
	}
	return err
}

func (c *compiler) compileStruct(p *plan, path string) error {
	t := p.typ
	exported := 0
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			if !f.Anonymous {
				continue
			}
			switch f.Type.Kind() {
			case reflect.Struct:
				// Kept: its exported fields are reachable, and settable
				// through reflect, as encoding/json relies on.
			case reflect.Pointer:
				if f.Type.Elem().Kind() == reflect.Struct {
					return unsupported(path+"."+f.Name, f.Type, "embedded pointers to unexported struct types are not supported: the decoder cannot allocate them")
				}
				continue
			default:
				continue
			}
		}
		exported++
		key := f.Name
		if tag, ok := f.Tag.Lookup("session"); ok {
			if tag == "-" {
				continue
			}
			if !validKey(tag) {
				return unsupported(path+"."+f.Name, f.Type, "the session tag must be \"-\" or a key of ASCII letters, digits and '_'")
			}
			key = tag
		} else if !validKey(key) {
			return unsupported(path+"."+f.Name, f.Type, "a field name other than ASCII letters, digits and '_' needs a session tag with such a key")
		}
		for _, g := range p.fields {
			if g.key == key {
				return unsupported(path+"."+f.Name, f.Type, "two fields have the key "+strconv.Quote(key))
			}
		}
		fp, err := c.compile(f.Type, path+"."+f.Name)
		if err != nil {
			return err
		}
		p.fields = append(p.fields, field{key: key, index: i, plan: fp})
	}
	if exported == 0 && t.NumField() > 0 {
		return unsupported(path, t, "struct has no exported fields, so its value would be lost; store a supported representation (such as its text form) instead")
	}
	// Keys in the order the text has them: encoding walks the fields in
	// this order, and decoding merges them with the text's keys.
	sortFields(p.fields)
	return nil
}

func sortFields(fs []field) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].key < fs[j-1].key; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func validKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !keyByte[s[i]] {
			return false
		}
	}
	return true
}

func isByte(t reflect.Type) bool { return t.Kind() == reflect.Uint8 }

func addCap(a, b int) int { return min(a+b, minLenCap) }

func mulCap(n, m int) int {
	if m != 0 && n > minLenCap/m {
		return minLenCap
	}
	return n * m
}

// Classes of bytes: strOut says how a string byte is written, strIn how a
// byte of encoded string text is read.
const (
	strInvalid  = iota // never appears in encoded strings
	strVerbatim        // stands for itself
	strSpace           // ' ' is written '+'
	strEscape          // written "*XX"
	strPlus            // '+' in the text: a space
	strStar            // '*' in the text: an escape
)

var (
	// cookieSafe is the output alphabet: RFC 6265 cookie-octets minus '%'.
	cookieSafe [256]bool
	// keyByte is the alphabet of field keys.
	keyByte [256]bool
	// strOut classifies string bytes for encoding.
	strOut [256]uint8
	// strIn classifies encoded text bytes for decoding.
	strIn [256]uint8
	// b64Val maps base64url characters to their value, others to 0xFF.
	b64Val [256]byte
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func init() {
	for c := 0x21; c <= 0x7e; c++ {
		cookieSafe[c] = true
	}
	for _, c := range "\"%,;\\" {
		cookieSafe[c] = false
	}
	for c := range 256 {
		keyByte[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
		switch {
		case c == ' ':
			strOut[c] = strSpace
		case cookieSafe[c] && c != '*' && c != '+' && c != '|':
			strOut[c] = strVerbatim
			strIn[c] = strVerbatim
		default:
			strOut[c] = strEscape
		}
	}
	strIn['+'] = strPlus
	strIn['*'] = strStar
	for i := range b64Val {
		b64Val[i] = 0xFF
	}
	for i := range len(b64Alphabet) {
		b64Val[b64Alphabet[i]] = byte(i)
	}
}

// base64Len is the length of the unpadded base64 of n bytes.
func base64Len(n int) int { return (n*8 + 5) / 6 }

// encodeBase64 appends the unpadded base64url of src to dst. It takes
// strings as well as byte slices so that encoding a string copies nothing.
func encodeBase64[S ~string | ~[]byte](dst []byte, src S) []byte {
	i := 0
	for ; i+3 <= len(src); i += 3 {
		v := uint(src[i])<<16 | uint(src[i+1])<<8 | uint(src[i+2])
		dst = append(dst, b64Alphabet[v>>18&63], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63], b64Alphabet[v&63])
	}
	switch len(src) - i {
	case 1:
		v := uint(src[i]) << 16
		dst = append(dst, b64Alphabet[v>>18&63], b64Alphabet[v>>12&63])
	case 2:
		v := uint(src[i])<<16 | uint(src[i+1])<<8
		dst = append(dst, b64Alphabet[v>>18&63], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63])
	}
	return dst
}

// decodeBase64 decodes the unpadded base64url src into dst, which has
// length len(src)*3/4. It accepts only the canonical form: every byte from
// the alphabet, a length that is not 1 mod 4, and zero unused trailing bits
// (the standard decoder's strict mode still skips CR and LF).
func decodeBase64(dst []byte, src string) bool {
	if len(src)%4 == 1 {
		return false
	}
	di := 0
	i := 0
	for ; i+4 <= len(src); i += 4 {
		a, b, c, d := b64Val[src[i]], b64Val[src[i+1]], b64Val[src[i+2]], b64Val[src[i+3]]
		if (a|b|c|d)&0xC0 != 0 {
			return false
		}
		v := uint(a)<<18 | uint(b)<<12 | uint(c)<<6 | uint(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
		di += 3
	}
	switch len(src) - i {
	case 2:
		a, b := b64Val[src[i]], b64Val[src[i+1]]
		if (a|b)&0xC0 != 0 || b&0x0F != 0 {
			return false
		}
		dst[di] = a<<2 | b>>4
	case 3:
		a, b, c := b64Val[src[i]], b64Val[src[i+1]], b64Val[src[i+2]]
		if (a|b|c)&0xC0 != 0 || c&0x03 != 0 {
			return false
		}
		dst[di], dst[di+1] = a<<2|b>>4, b<<4|c>>2
	}
	return true
}
