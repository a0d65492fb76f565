package sessions

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The codec itself is tested in internal/compact; these tests hold Compact,
// the Serializer users get by default, to what its documentation promises.

// codecSession is the typical session value, used by the size test and the
// benchmarks.
type codecSession struct {
	User    string
	ID      int64
	Roles   []string
	Admin   bool
	Expires time.Time
	CSRF    []byte
	Cart    map[string]int
}

func TestCompactRoundTripsASession(t *testing.T) {
	c := Compact[codecSession]()
	for _, v := range []codecSession{{}, codecBenchValue()} {
		s, err := c.Serialize(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Deserialize(s)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Fatalf("got %+v, %v; want %+v", got, err, v)
		}
	}
}

// TestCompactKeepsSessionsAcrossAChangedStruct is the deploy of the
// documentation: a text written by one definition of the session struct
// reads with the next one.
func TestCompactKeepsSessionsAcrossAChangedStruct(t *testing.T) {
	type before struct {
		User  string
		Admin bool
		Cart  map[string]int
		Seen  int64
	}
	type after struct {
		Theme string         // added
		Cart  map[string]int // moved
		Login string         `session:"User"` // renamed, key pinned
		Seen  time.Time      // retyped
	}
	s, err := Compact[before]().Serialize(before{User: "ann", Admin: true, Cart: map[string]int{"pear": 2}, Seen: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Compact[after]().Deserialize(s)
	want := after{Cart: map[string]int{"pear": 2}, Login: "ann"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
}

func TestCompactRefusesUnsupportedTypes(t *testing.T) {
	tests := []struct {
		name  string
		check func() (encErr, decErr error)
	}{
		{"chan", codecUnsupported[struct{ C chan int }]()},
		{"interface", codecUnsupported[struct{ V any }]()},
		{"field name needing a tag", codecUnsupported[struct{ Größe int }]()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encErr, decErr := tt.check()
			if !errors.Is(encErr, errors.ErrUnsupported) || !errors.Is(decErr, errors.ErrUnsupported) {
				t.Fatalf("errors %v, %v do not wrap errors.ErrUnsupported", encErr, decErr)
			}
		})
	}
}

// codecUnsupported returns the errors of Serialize of the zero T, which is
// how New checks a type up front, and of Deserialize.
func codecUnsupported[T any]() func() (error, error) {
	return func() (error, error) {
		c := Compact[T]()
		var zero T
		_, encErr := c.Serialize(zero)
		_, decErr := c.Deserialize("2()")
		return encErr, decErr
	}
}

func TestCompactErrorsDoNotQuoteContent(t *testing.T) {
	const secret = "s3cr3tT0k3n"
	c := Compact[codecSession]()
	s, _ := c.Serialize(codecSession{User: secret, CSRF: []byte(secret)})
	for _, bad := range []string{s + secret, secret + s, s[:len(s)-1] + secret, strings.Replace(s, secret, secret+" ", 1)} {
		_, err := c.Deserialize(bad)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("error %v quotes the input, or is missing", err)
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
		{"typical", codecBenchValue()},
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
