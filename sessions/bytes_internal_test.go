package sessions

import (
	"context"
	"io"
	"testing"
	"time"
)

// plainBytes is a ByteStorage that keeps nothing.
type plainBytes struct{}

func (plainBytes) Load(context.Context, string) ([]byte, error)                  { return nil, ErrNotFound }
func (plainBytes) Save(context.Context, string, []byte, time.Time) error         { return nil }
func (plainBytes) Delete(context.Context, string) error                          { return nil }
func (plainBytes) SaveIfAbsent(context.Context, string, []byte, time.Time) error { return nil }
func (plainBytes) SaveIfLive(context.Context, string, []byte, time.Time) error   { return nil }

// onlyBytes hides plainBytes's conditional saves.
type onlyBytes struct{ ByteStorage }

// ownConditional is a ConditionalWriter of an application's making.
type ownConditional struct{}

func (ownConditional) Create(context.Context, string, time.Time, func(io.Writer) error) error {
	return nil
}
func (ownConditional) Replace(context.Context, string, time.Time, func(io.Writer) error) error {
	return nil
}

// TestBytesUnderFindsOnlyFromBytesAdapter: the middleware reads and writes
// a FromBytes storage's bytes directly only when every method it would
// call is the adapter's: FromBytes's result, with or without its
// conditional writes, or what Compose makes of the adapter with those. A
// wrapper around the adapter, conditional writes of the application's own
// over it, or any other storage are called through their methods.
func TestBytesUnderFindsOnlyFromBytesAdapter(t *testing.T) {
	plain := FromBytes(onlyBytes{plainBytes{}})
	cond := FromBytes(plainBytes{})
	adapter := plain.(interface{ Unwrap() Storage }).Unwrap()
	cases := []struct {
		name        string
		s           Storage
		found, cond bool
	}{
		{"FromBytes", plain, true, false},
		{"FromBytes of a ConditionalByteStorage", cond, true, true},
		{"the adapter composed with FromBytes's conditional writes", Compose(adapter, Capabilities{ConditionalWriter: CapabilitiesOf(cond).ConditionalWriter}), false, false},
		{"the adapter composed with no capability", Compose(adapter, Capabilities{}), true, false},
		{"the adapter composed with conditional writes of its own", Compose(adapter, Capabilities{ConditionalWriter: ownConditional{}}), false, false},
		{"a wrapper composed around FromBytes", Compose(plain, Capabilities{}), false, false},
		{"no storage", nil, false, false},
	}
	for _, tc := range cases {
		a := bytesUnder(tc.s)
		if (a != nil) != tc.found || a != nil && (a.create != nil) != tc.cond {
			t.Errorf("%s: bytesUnder = %+v; want found %v, conditional %v", tc.name, a, tc.found, tc.cond)
		}
	}
}
