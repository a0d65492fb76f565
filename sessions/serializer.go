package sessions

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Serializer turns a session value into text and back. Serialize's output
// travels in a cookie or header (by-value sessions, after the transformers)
// or sits in a [Storage] (by-id sessions). Deserialize must return an error,
// never panic, for any input: it reads what clients send. Implementations
// are called concurrently and must be safe for that.
type Serializer[T any] interface {
	Serialize(v T) (string, error)
	Deserialize(s string) (T, error)
}

// JSON returns a [Serializer] that uses encoding/json. Its output is not
// cookie-safe text; the cookie transport escapes what needs escaping, at
// some cost in size. Unknown fields are rejected on decode, so a value
// written by a changed struct is "no session" rather than a partial value.
func JSON[T any]() Serializer[T] { return jsonSerializer[T]{} }

type jsonSerializer[T any] struct{}

func (jsonSerializer[T]) Serialize(v T) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sessions: json encode: %w", err)
	}
	return string(b), nil
}

func (jsonSerializer[T]) Deserialize(s string) (T, error) {
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("sessions: json decode: %w", err)
	}
	if dec.More() {
		return v, fmt.Errorf("sessions: json decode: trailing data")
	}
	return v, nil
}
