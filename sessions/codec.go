package sessions

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Compact returns the default Serializer: a reflection-based codec whose
// output is cookie-safe text, typically less than half the size of
// base64url-encoded JSON. The returned Serializer is safe for concurrent use;
// the plan it runs is built once per type, on the first call of Compact for
// that type, and shared.
//
// If T, or a type reachable from its exported fields, cannot be encoded (see
// below), both methods of the returned Serializer return an error that names
// the offending field path and wraps errors.ErrUnsupported; no value of T is
// ever encoded partially. Deserialize returns an error, never panics, for
// any input, and on error it returns the zero T rather than a partial value.
// Errors never quote the encoded text or a session value.
//
// # What is encoded
//
// Supported: bool; every int and uint kind including uintptr; float32 and
// float64 (NaN and ±Inf included; every NaN decodes as the one math.NaN);
// string; slices, including []byte and other slices of a byte kind; arrays;
// maps whose key kind is a string or integer kind; pointers; structs, of
// which only exported fields are encoded (an embedded struct is one field
// holding that struct, also when its type is unexported, so its exported
// fields are kept as encoding/json keeps them); time.Time and
// time.Duration. Named types are encoded by their kind, except time.Time and
// time.Duration.
//
// Refused, with an error from every call that names the field path: chan,
// func, complex, unsafe.Pointer, interface types (even when the value is
// nil: the decoder could not know which concrete type to build), maps with
// other key kinds, slices whose element encodes as nothing (such as
// []struct{}: their length could not be bounded by the input), structs
// other than time.Time that have fields but none that is encoded (such as
// netip.Addr or big.Int: their value would be lost silently), and embedded
// pointers to unexported struct types (the decoder cannot allocate them).
//
// Recursive types (through pointers, slices or maps) are supported. Values
// nest at most 64 levels deep (every struct, array, slice, map and pointer
// is a level, except time.Time and byte slices and arrays): Serialize
// refuses a deeper value, including a cyclic one, and Deserialize refuses
// deeper input, so neither can exhaust the stack.
//
// Round trips are exact, with three documented normalisations: time.Time
// comes back in UTC with its monotonic clock reading dropped (the instant,
// to the nanosecond, is kept, so t.Equal holds); NaN payloads are not kept;
// and strings in the decoded value may share memory with the input text.
// Nil and empty slices and maps, and nil and non-nil pointers, are told
// apart.
//
// # Changed types
//
// Every encoding starts with a fingerprint of T's shape: field names,
// kinds, array lengths and the nesting of all of them, but not type names
// or struct tags. Deserialize refuses text whose fingerprint differs, so
// adding, removing, renaming, reordering or retyping a field (int to int64
// included) makes every value written before the change fail to decode.
// For a session kept client-side, or kept by id with the value in a
// Storage, deploying a changed session type therefore logs users out: the
// middleware sees "no session", which is the safe outcome; a value is never
// decoded into the wrong fields. Renaming a type, or changing struct tags,
// keeps sessions valid.
//
// # Grammar (version 1)
//
// The text uses only RFC 6265 cookie-octets other than '%': no space, no
// '"', ',', ';', '\', '%', control or non-ASCII byte. It is
//
//	encoding = fingerprint value
//
// where fingerprint is 6 characters of base64url: the first 36 bits of the
// SHA-256 of the line "sessionkit/compact/v1" followed by a description of
// T's shape. The format version is part of that hash, so a later version of
// the grammar changes every fingerprint, and text of one version never
// decodes under another. value depends on the type:
//
//   - bool: "0" or "1".
//   - signed integers and time.Duration: decimal, "-" before negatives,
//     then "|": "0|", "-12|". Unsigned integers: decimal then "|".
//   - float32 and float64: the shortest decimal that parses back to the
//     same value, as strconv.FormatFloat(f, 'g', -1, bits) writes it, then
//     "|": "0.5|", "-0|", "1e+21|", "NaN|", "+Inf|", "-Inf|".
//   - string: its bytes then "|". Bytes of the alphabet other than '*', '+'
//     and '|' stand for themselves, a space is written "+", and every other
//     byte as "*" and two uppercase hex digits: "a*2Bb|" for "a+b",
//     "Jos*C3*A9|" for "José". When "*=" followed by the unpadded base64url
//     of the string is shorter than that, it is written so instead:
//     "*=5bGx55Sw|" for "山田" (mostly non-ASCII text such as CJK names).
//   - []byte and other slices of a byte kind: "~" for nil, else unpadded
//     base64url then "|" (an empty slice is "|").
//   - arrays of a byte kind, [N]byte: exactly the unpadded base64url of the N
//     bytes, with no terminator.
//   - time.Time: "|" for the zero Time (t.IsZero()); else the Unix seconds
//     t.Unix() as a signed integer, then, unless the nanoseconds within the
//     second are zero, "." and those nanoseconds as 9 digits without their
//     trailing zeros, then "|": "1767225600|", "1767225600.5|". The
//     fraction is always added, so before 1970 "-1.25|" is a quarter of a
//     second past -1 s, that is -0.75 s.
//   - pointers: "~" for nil, else "&" and the value pointed to.
//   - other slices: "~" for nil, else the length as an unsigned integer,
//     then each element: "2|" "a|" "b|".
//   - other arrays: each element, with no length.
//   - maps: "~" for nil, else the length as an unsigned integer, then each
//     key followed by its value, keys in increasing order (bytewise for
//     strings, numeric for integers).
//   - structs: the encoded fields in declaration order, with no names and
//     no separators of their own.
//
// For example, struct{ User string; ID int64; Roles []string; Admin bool }
// holding {"ann@example.com", 42, ["admin"], true} is the fingerprint
// followed by "ann@example.com|42|1|admin|1".
//
// Decoding is strict: each value has exactly one encoding, so a client
// cannot craft several texts for one value. Every other spelling is an
// error: leading zeros, "+" or "-0" on integers, an escape where none is
// needed, lowercase hex, a float in other than its shortest form, a base64
// string where the plain form is no longer (or the reverse), nonzero
// trailing bits in base64, unsorted or repeated map keys, a fraction of
// time with trailing zeros, bytes after the value. A length is refused,
// before anything is allocated, when the input left is too short to hold
// that many elements.
func Compact[T any]() Serializer[T] {
	r := codecRootFor(reflect.TypeFor[T]())
	return &codecSerializer[T]{root: r}
}

// codecSerializer is the Serializer returned by Compact.
type codecSerializer[T any] struct {
	root *codecRoot
}

func (c *codecSerializer[T]) Serialize(v T) (string, error) {
	r := c.root
	if r.err != nil {
		return "", r.err
	}
	e := codecEncoderPool.Get().(*codecEncoder)
	e.buf = append(e.buf[:0], r.fingerprint...)
	err := e.encode(r.plan, reflect.ValueOf(&v).Elem(), 0)
	var s string
	if err == nil {
		s = string(e.buf)
	}
	e.release()
	return s, err
}

func (c *codecSerializer[T]) Deserialize(s string) (T, error) {
	var v T
	r := c.root
	if r.err != nil {
		return v, r.err
	}
	if len(s) < codecFingerprintLen || s[:codecFingerprintLen] != r.fingerprint {
		return v, errors.New("sessions: compact: decode: text was written for another type or format version")
	}
	d := codecDecoder{s: s, pos: codecFingerprintLen}
	if err := d.decode(r.plan, reflect.ValueOf(&v).Elem(), 0); err != nil {
		var zero T
		return zero, err
	}
	if d.pos != len(s) {
		var zero T
		return zero, d.fail("unexpected bytes after the value")
	}
	return v, nil
}

const (
	// codecMaxDepth bounds the nesting of values on both encode and decode.
	// Decode input is chosen by the client, so without a bound a recursive
	// type would let it drive the decoder's recursion until the stack
	// overflows.
	codecMaxDepth = 64

	// codecFingerprintLen is the length of the fingerprint prefix: 36 bits
	// of hash, so that a changed type passes the check by accident once in
	// 2^36 changes, and even then the positional decode most likely fails.
	codecFingerprintLen = 6

	// codecMinLenCap keeps minimum-length arithmetic from overflowing on
	// huge array types; any value above the longest possible input will do.
	codecMinLenCap = 1 << 30
)

// codecKind is the encoding a plan node uses, a refinement of reflect.Kind.
type codecKind uint8

const (
	codecKindBool codecKind = iota + 1
	codecKindInt
	codecKindUint
	codecKindFloat
	codecKindString
	codecKindBytes     // slice of a byte kind
	codecKindByteArray // array of a byte kind
	codecKindTime
	codecKindPtr
	codecKindSlice
	codecKindArray
	codecKindMap
	codecKindStruct
)

// codecPlan is the compiled encoding of one type at one place in a root
// type. Plans are immutable once built and shared by every call, which is
// what makes the Serializer safe for concurrent use. A recursive type is a
// plan graph with cycles.
type codecPlan struct {
	kind   codecKind
	typ    reflect.Type
	path   string // the field path, for error messages
	bits   int    // size of ints, uints and floats
	n      int    // array length; for byte arrays, the encoded length
	minLen int    // the fewest bytes any value of typ encodes to
	elem   *codecPlan
	key    *codecPlan
	fields []codecField
	// entry is struct{ K key; V elem } for maps: one allocation of it
	// gives both scratch values a map encode or decode needs.
	entry reflect.Type
}

// mapScratch returns a settable key and value for map plan p, zero.
func (p *codecPlan) mapScratch() (key, val reflect.Value) {
	e := reflect.New(p.entry).Elem()
	return e.Field(0), e.Field(1)
}

type codecField struct {
	index int
	plan  *codecPlan
}

// codecRoot is everything a Serializer needs for one type T.
type codecRoot struct {
	plan        *codecPlan
	fingerprint string
	err         error
}

// codecRoots caches one root per type: Compact may be called more than
// once for a type (tests, several providers), and compiling costs far more
// than a lookup.
var codecRoots sync.Map // reflect.Type -> *codecRoot

func codecRootFor(t reflect.Type) *codecRoot {
	if r, ok := codecRoots.Load(t); ok {
		return r.(*codecRoot)
	}
	c := codecCompiler{}
	var shape strings.Builder
	p, err := c.compile(t, t.String(), &shape)
	if err == nil {
		err = c.checkDeferred()
	}
	r := &codecRoot{err: err}
	if err == nil {
		r.plan = p
		r.fingerprint = codecFingerprint(shape.String())
	}
	actual, _ := codecRoots.LoadOrStore(t, r)
	return actual.(*codecRoot)
}

// codecFingerprint derives the fingerprint from a shape description.
func codecFingerprint(shape string) string {
	sum := sha256.Sum256([]byte("sessionkit/compact/v1\n" + shape))
	// 6 bytes give 8 characters; the first 6 carry the first 36 bits.
	return string(codecEncodeBase64(nil, sum[:6])[:codecFingerprintLen])
}

// codecUnsupportedError reports a type the codec cannot encode.
type codecUnsupportedError struct {
	path string
	typ  reflect.Type
	why  string
}

func (e *codecUnsupportedError) Error() string {
	return "sessions: compact: " + e.path + " (" + e.typ.String() + "): " + e.why
}

// Unwrap lets callers tell a programming error (an unsupported session
// type) from bad input with errors.Is(err, errors.ErrUnsupported).
func (e *codecUnsupportedError) Unwrap() error { return errors.ErrUnsupported }

var (
	codecTimeType     = reflect.TypeFor[time.Time]()
	codecDurationType = reflect.TypeFor[time.Duration]()
)

// codecCompiler builds the plan of one root type and, alongside, the shape
// description its fingerprint hashes.
type codecCompiler struct {
	// stack holds the composite types being compiled, outermost first, with
	// their unfinished plans: meeting one of them again is a recursive
	// type, which becomes a cycle in the plan and a back reference "^i" in
	// the shape.
	stack []codecStackEntry
	// slices whose element plan was unfinished when they were compiled; the
	// element's minimum length is checked once everything is built.
	deferred []*codecPlan
}

type codecStackEntry struct {
	typ  reflect.Type
	plan *codecPlan
}

func (c *codecCompiler) unsupported(path string, t reflect.Type, why string) error {
	return &codecUnsupportedError{path: path, typ: t, why: why}
}

// compile returns the plan of t, found at path, and writes t's shape to
// shape. The shape has every property the encoding depends on and nothing
// else: kinds, sizes, field names and nesting. It is written as: the kind
// name for scalars ("bool", "int8", "uintptr", "float32", "string"...),
// "time", "duration", "bytes" for byte slices and "bytes[N]" for byte
// arrays, "*" elem, "[]" elem, "[N]" elem, "map[" key "]" value, "{" and
// then "Name " shape ";" for each encoded field and "}", and "^i" for the
// i-th enclosing composite type (0 the outermost) where a type recurs.
func (c *codecCompiler) compile(t reflect.Type, path string, shape *strings.Builder) (*codecPlan, error) {
	for i, s := range c.stack {
		if s.typ == t {
			shape.WriteString("^" + strconv.Itoa(i))
			return s.plan, nil
		}
	}
	p := &codecPlan{typ: t, path: path}
	switch t {
	case codecTimeType:
		p.kind, p.minLen = codecKindTime, 1
		shape.WriteString("time")
		return p, nil
	case codecDurationType:
		p.kind, p.bits, p.minLen = codecKindInt, 64, 2
		shape.WriteString("duration")
		return p, nil
	}
	switch k := t.Kind(); k {
	case reflect.Bool:
		p.kind, p.minLen = codecKindBool, 1
		shape.WriteString("bool")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.kind, p.bits, p.minLen = codecKindInt, t.Bits(), 2
		shape.WriteString(k.String())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.kind, p.bits, p.minLen = codecKindUint, t.Bits(), 2
		shape.WriteString(k.String())
	case reflect.Float32, reflect.Float64:
		p.kind, p.bits, p.minLen = codecKindFloat, t.Bits(), 2
		shape.WriteString(k.String())
	case reflect.String:
		p.kind, p.minLen = codecKindString, 1
		shape.WriteString("string")
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		return p, c.compileComposite(p, path, shape)
	case reflect.Interface:
		return nil, c.unsupported(path, t, "interface types are not supported: the decoder could not know which concrete type to build")
	default: // chan, func, complex, unsafe.Pointer
		return nil, c.unsupported(path, t, k.String()+" values cannot be encoded")
	}
	return p, nil
}

func (c *codecCompiler) compileComposite(p *codecPlan, path string, shape *strings.Builder) error {
	t := p.typ
	c.stack = append(c.stack, codecStackEntry{t, p})
	defer func() { c.stack = c.stack[:len(c.stack)-1] }()
	var err error
	switch t.Kind() {
	case reflect.Pointer:
		p.kind, p.minLen = codecKindPtr, 1
		shape.WriteString("*")
		p.elem, err = c.compile(t.Elem(), path, shape)
	case reflect.Slice:
		p.minLen = 1
		if codecIsByte(t.Elem()) {
			p.kind = codecKindBytes
			shape.WriteString("bytes")
			return nil
		}
		p.kind = codecKindSlice
		shape.WriteString("[]")
		if p.elem, err = c.compile(t.Elem(), path+"[elem]", shape); err != nil {
			return err
		}
		return c.checkSliceElem(p)
	case reflect.Array:
		if codecIsByte(t.Elem()) {
			p.kind = codecKindByteArray
			p.n = codecBase64Len(t.Len())
			p.minLen = p.n
			shape.WriteString("bytes[" + strconv.Itoa(t.Len()) + "]")
			return nil
		}
		p.kind, p.n = codecKindArray, t.Len()
		shape.WriteString("[" + strconv.Itoa(p.n) + "]")
		if p.elem, err = c.compile(t.Elem(), path+"[elem]", shape); err != nil {
			return err
		}
		p.minLen = codecMulCap(p.n, p.elem.minLen)
	case reflect.Map:
		p.kind, p.minLen = codecKindMap, 1
		switch t.Key().Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			return c.unsupported(path, t, "map keys must be of a string or integer kind")
		}
		p.entry = reflect.StructOf([]reflect.StructField{{Name: "K", Type: t.Key()}, {Name: "V", Type: t.Elem()}})
		shape.WriteString("map[")
		if p.key, err = c.compile(t.Key(), path+"[key]", shape); err != nil {
			return err
		}
		shape.WriteString("]")
		p.elem, err = c.compile(t.Elem(), path+"[value]", shape)
	case reflect.Struct:
		p.kind = codecKindStruct
		err = c.compileStruct(p, path, shape)
	}
	return err
}

func (c *codecCompiler) compileStruct(p *codecPlan, path string, shape *strings.Builder) error {
	t := p.typ
	shape.WriteString("{")
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
					return c.unsupported(path+"."+f.Name, f.Type, "embedded pointers to unexported struct types are not supported: the decoder cannot allocate them")
				}
				continue
			default:
				continue
			}
		}
		shape.WriteString(f.Name + " ")
		fp, err := c.compile(f.Type, path+"."+f.Name, shape)
		if err != nil {
			return err
		}
		shape.WriteString(";")
		p.fields = append(p.fields, codecField{index: i, plan: fp})
		p.minLen = codecAddCap(p.minLen, fp.minLen)
	}
	shape.WriteString("}")
	if len(p.fields) == 0 && t.NumField() > 0 {
		return c.unsupported(path, t, "struct has no exported fields, so its value would be lost; store a supported representation (such as its text form) instead")
	}
	return nil
}

// checkSliceElem refuses slices whose elements can encode to nothing: a
// length prefix could then claim any number of elements at no cost in
// input, and the decoder would loop that many times.
func (c *codecCompiler) checkSliceElem(p *codecPlan) error {
	for _, s := range c.stack {
		if s.plan == p.elem {
			// Unfinished: its minimum length is not known yet.
			c.deferred = append(c.deferred, p)
			return nil
		}
	}
	if p.elem.minLen == 0 {
		return c.unsupported(p.path, p.typ, "slices of elements that encode to nothing are not supported")
	}
	return nil
}

func (c *codecCompiler) checkDeferred() error {
	for _, p := range c.deferred {
		if p.elem.minLen == 0 {
			return c.unsupported(p.path, p.typ, "slices of elements that encode to nothing are not supported")
		}
	}
	return nil
}

func codecIsByte(t reflect.Type) bool { return t.Kind() == reflect.Uint8 }

func codecAddCap(a, b int) int { return min(a+b, codecMinLenCap) }

func codecMulCap(n, m int) int {
	if m != 0 && n > codecMinLenCap/m {
		return codecMinLenCap
	}
	return n * m
}

// Classes of bytes: codecStrOut says how a string byte is written,
// codecStrIn how a byte of encoded string text is read.
const (
	codecStrInvalid  = iota // never appears in encoded strings
	codecStrVerbatim        // stands for itself
	codecStrSpace           // ' ' is written '+'
	codecStrEscape          // written "*XX"
	codecStrPlus            // '+' in the text: a space
	codecStrStar            // '*' in the text: an escape
)

var (
	// codecSafe is the output alphabet: RFC 6265 cookie-octets minus '%'.
	codecSafe [256]bool
	// codecStrOut classifies string bytes for encoding.
	codecStrOut [256]uint8
	// codecStrIn classifies encoded text bytes for decoding.
	codecStrIn [256]uint8
	// codecB64Val maps base64url characters to their value, others to 0xFF.
	codecB64Val [256]byte
)

const (
	codecB64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	codecUpperHex    = "0123456789ABCDEF"
)

func init() {
	for c := 0x21; c <= 0x7e; c++ {
		codecSafe[c] = true
	}
	for _, c := range "\"%,;\\" {
		codecSafe[c] = false
	}
	for c := range 256 {
		switch {
		case c == ' ':
			codecStrOut[c] = codecStrSpace
		case codecSafe[c] && c != '*' && c != '+' && c != '|':
			codecStrOut[c] = codecStrVerbatim
			codecStrIn[c] = codecStrVerbatim
		default:
			codecStrOut[c] = codecStrEscape
		}
	}
	codecStrIn['+'] = codecStrPlus
	codecStrIn['*'] = codecStrStar
	for i := range codecB64Val {
		codecB64Val[i] = 0xFF
	}
	for i := range len(codecB64Alphabet) {
		codecB64Val[codecB64Alphabet[i]] = byte(i)
	}
}

// codecBase64Len is the length of the unpadded base64 of n bytes.
func codecBase64Len(n int) int { return (n*8 + 5) / 6 }

// codecEncodeBase64 appends the unpadded base64url of src to dst. It takes
// strings as well as byte slices so that encoding a string copies nothing.
func codecEncodeBase64[S ~string | ~[]byte](dst []byte, src S) []byte {
	i := 0
	for ; i+3 <= len(src); i += 3 {
		v := uint(src[i])<<16 | uint(src[i+1])<<8 | uint(src[i+2])
		dst = append(dst, codecB64Alphabet[v>>18&63], codecB64Alphabet[v>>12&63], codecB64Alphabet[v>>6&63], codecB64Alphabet[v&63])
	}
	switch len(src) - i {
	case 1:
		v := uint(src[i]) << 16
		dst = append(dst, codecB64Alphabet[v>>18&63], codecB64Alphabet[v>>12&63])
	case 2:
		v := uint(src[i])<<16 | uint(src[i+1])<<8
		dst = append(dst, codecB64Alphabet[v>>18&63], codecB64Alphabet[v>>12&63], codecB64Alphabet[v>>6&63])
	}
	return dst
}

// codecDecodeBase64 decodes the unpadded base64url src into dst, which has
// length len(src)*3/4. It accepts only the canonical form: every byte from
// the alphabet, a length that is not 1 mod 4, and zero unused trailing bits
// (the standard decoder's strict mode still skips CR and LF).
func codecDecodeBase64(dst []byte, src string) bool {
	if len(src)%4 == 1 {
		return false
	}
	di := 0
	i := 0
	for ; i+4 <= len(src); i += 4 {
		a, b, c, d := codecB64Val[src[i]], codecB64Val[src[i+1]], codecB64Val[src[i+2]], codecB64Val[src[i+3]]
		if (a|b|c|d)&0xC0 != 0 {
			return false
		}
		v := uint(a)<<18 | uint(b)<<12 | uint(c)<<6 | uint(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
		di += 3
	}
	switch len(src) - i {
	case 2:
		a, b := codecB64Val[src[i]], codecB64Val[src[i+1]]
		if (a|b)&0xC0 != 0 || b&0x0F != 0 {
			return false
		}
		dst[di] = a<<2 | b>>4
	case 3:
		a, b, c := codecB64Val[src[i]], codecB64Val[src[i+1]], codecB64Val[src[i+2]]
		if (a|b|c)&0xC0 != 0 || c&0x03 != 0 {
			return false
		}
		dst[di], dst[di+1] = a<<2|b>>4, b<<4|c>>2
	}
	return true
}
