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

import "reflect"

// Version is the first byte of every text of this grammar.
const Version = '2'

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
