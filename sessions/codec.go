package sessions

import "github.com/sessionkit/sessionkit/sessions/internal/compact"

// Compact returns the default Serializer: a reflection-based codec whose
// output is cookie-safe text, smaller than base64url-encoded JSON, and which
// keeps sessions valid across a deploy that changes the session type. The
// returned Serializer is safe for concurrent use; the plan it runs is built
// once per type, on the first call of Compact for that type, and shared.
//
// # Changing the session type
//
// Struct fields are written with a key, their name or the key that a
// `session:"key"` tag pins (so that a renamed field keeps its values; the
// tag "-" leaves a field out), and decoded by key, the way protobuf does,
// at every level: nested structs, slices, arrays and maps of structs, and
// pointers to them.
//
//   - Added fields decode as zero; removed fields are skipped; the order of
//     the fields does not matter.
//   - A field whose type changed to another kind (string to int, int to
//     time.Duration, T to *T, []string to []int, a struct to a map...) is
//     left zero, and the rest of the session is kept. A field is never
//     set to a wrong value: the text says the kind of every value.
//   - Integer kinds read each other, and so do float32 and float64, []byte
//     and [N]byte, slices and arrays: a value the new type holds exactly
//     is kept (int to int64 keeps every value; 300 in a field that became
//     an int8 leaves it zero).
//   - Renaming a type, or a named type of the same kind, changes nothing.
//
// A session read so keeps only the fields its type knows when it is written
// again: after a deploy that removes a field and its rollback, the field is
// zero in the sessions written in between.
//
// Deserialize fails only when the text is not of the grammar, not in its
// canonical form, or when the root value itself is of another kind; the
// middleware then sees "no session". Texts of the previous, positional
// version of the codec (which began with a fingerprint of the type) are
// refused in that way.
//
// # What is encoded
//
// Supported: bool; every int and uint kind including uintptr; float32 and
// float64 (NaN and ±Inf included; every NaN decodes as the one math.NaN);
// string; slices, including []byte; arrays; maps whose key kind is a string
// or integer kind; pointers; structs, of which only exported fields are
// encoded (an embedded struct is one field keyed by its type name, also
// when its type is unexported, so its exported fields are kept as
// encoding/json keeps them); time.Time and time.Duration.
//
// If T, or a type reachable from its exported fields, cannot be encoded,
// both methods of the returned Serializer return an error that names the
// offending field path and wraps errors.ErrUnsupported; no value of T is
// ever encoded partially. Refused: chan, func, complex, unsafe.Pointer,
// interface types (the decoder could not know which concrete type to
// build), maps with other key kinds, structs other than time.Time that
// have fields but no exported one (such as netip.Addr or big.Int: their
// value would be lost silently), embedded pointers to unexported struct
// types, a field name that is not ASCII letters, digits and '_' without a
// session tag giving such a key, such a tag that is malformed, and two
// fields of one struct with one key.
//
// Values nest at most 64 levels deep (every struct, array, slice, map and
// pointer is a level, except time.Time and byte slices and arrays):
// Serialize refuses a deeper value, including a cyclic one, and
// Deserialize refuses deeper input, so neither can exhaust the stack.
// Deserialize returns an error, never panics, for any input, and on error
// it returns the zero T rather than a partial value. Errors never quote the
// encoded text or a session value.
//
// Round trips are exact, with three normalisations: time.Time comes back in
// UTC with its monotonic clock reading dropped (the instant, to the
// nanosecond, is kept, so t.Equal holds); NaN payloads are not kept; and
// strings in the decoded value may share memory with the input text. Nil
// and empty slices and maps, and nil and non-nil pointers, are told apart.
//
// # Grammar
//
// The text begins with the grammar version, "2", then the value. Every
// value begins with a byte that names its kind, and zero fields are not
// written, so struct{ User string; ID int64; Roles []string; Admin bool }
// holding {"ann@example.com", 42, ["admin"], false} is
//
//	2(ID=42|Roles[1|:admin|User:ann@example.com|)
//
// Each value has one text: the decoder refuses every other spelling
// (leading zeros, unneeded escapes, fields or map keys out of order or
// repeated, a field written with its zero value, trailing bytes...), and a
// count longer than the input left is refused before anything is
// allocated. The full grammar is in the documentation of the package
// sessions/internal/compact.
func Compact[T any]() Serializer[T] { return compact.For[T]() }
