package compact

import (
	"errors"
	"reflect"
)

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
