package storagetest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// invalidIDs are ids outside [A-Za-z0-9_-]{1,128}, named for their subtests:
// path traversal in its spellings, separators of file systems and key
// spaces, wildcards of SCAN, LIKE and glob patterns, and lengths around the
// limit.
var invalidIDs = []struct{ name, id string }{
	{"Empty", ""},
	{"DotDotSlash", "../x"},
	{"Slash", "a/b"},
	{"Backslash", `a\b`},
	{"Dot", "."},
	{"DotDot", ".."},
	{"DotDotBackslash", `..\x`},
	{"AbsolutePath", "/etc/passwd"},
	{"PercentEncodedDotDot", "%2e%2e"},
	{"NUL", "a\x00b"},
	{"Space", "a b"},
	{"Newline", "a\nb"},
	{"TooLong129", strings.Repeat("a", sessions.MaxIDLength+1)},
	{"NonASCII", "séance"},
	{"FullwidthLetter", "ａ"},
	{"InvalidUTF8", "a\xffb"},
	{"Colon", "prefix:a"},
	{"Asterisk", "*"},
	{"QuestionMark", "?"},
	{"Brackets", "[a-z]"},
	{"Percent", "%"},
	{"Quote", `a'b"c`},
	{"Semicolon", "a;b"},
	{"Dollar", "$a"},
	{"Tilde", "~a"},
	{"Plus", "a+b"},
	{"Equals", "a=b"},
}

// invalidIDCases gives one subtest per invalid id: every method rejects it
// with ErrInvalidID and nothing is created.
func (s *suite) invalidIDCases() []testCase {
	cases := make([]testCase, 0, len(invalidIDs))
	for _, c := range invalidIDs {
		cases = append(cases, testCase{c.name, func(t *testing.T) { s.testInvalidID(t, c.id) }})
	}
	return cases
}

func (s *suite) testInvalidID(t *testing.T, id string) {
	st := s.newStorage(t)
	// A live entry next to the attempts shows that Invalidate of a bad id
	// removed nothing it could map to, such as the "x" of "../x".
	v := value(1, 10)
	for _, near := range []string{"x", "a", "b", "ab"} {
		mustPut(t, st, near, later(), v)
	}
	want := func(call string, err error) {
		t.Helper()
		if !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("%s with an invalid id returned %v, want an error wrapping sessions.ErrInvalidID", call, err)
		}
	}
	want("Write", put(t.Context(), st, id, later(), value(2, 10)))
	want("Write with no expiry", put(t.Context(), st, id, time.Time{}, value(2, 10)))
	called := false
	want("Read", st.Read(t.Context(), id, func(io.Reader) error { called = true; return nil }))
	if called {
		t.Errorf("Read with an invalid id called the read func, want it rejected before any lookup")
	}
	want("Invalidate", st.Invalidate(t.Context(), id))
	if to, ok := st.(sessions.Toucher); ok {
		want("Touch", to.Touch(t.Context(), id, later()))
	}
	if cw, ok := st.(sessions.ConditionalWriter); ok {
		want("Create", cw.Create(t.Context(), id, later(), writeChunks(value(2, 10))))
		want("Replace", cw.Replace(t.Context(), id, later(), writeChunks(value(2, 10))))
	}
	if er, ok := st.(sessions.ExpiryReader); ok {
		want("ReadWithExpiry", er.ReadWithExpiry(t.Context(), id, func(io.Reader, time.Time) error { called = true; return nil }))
		if called {
			t.Errorf("ReadWithExpiry with an invalid id called the read func, want it rejected before any lookup")
		}
	}
	if ix, ok := st.(sessions.Indexer); ok {
		// The index keys are valid: the id alone is wrong. Indexer/InvalidIndexKey
		// checks invalid index keys.
		want("CreateIndexed", ix.CreateIndexed(t.Context(), id, "ab", later(), writeChunks(value(2, 10))))
		want("ReplaceIndexed", ix.ReplaceIndexed(t.Context(), id, "ab", later(), writeChunks(value(2, 10))))
	}
	for _, near := range []string{"x", "a", "b", "ab"} {
		wantContent(t, st, near, v, "Read of a valid id after calls with an invalid one")
	}
	wantListed(t, st, []string{"x", "a", "b", "ab"}, "after Writes with an invalid id")
}

func (s *suite) validIDCases() []testCase {
	return []testCase{
		{"Generated", s.testGeneratedIDs},
		{"OneChar", func(t *testing.T) { s.testValidIDs(t, "a", "Z", "0") }},
		{"MaxLength", func(t *testing.T) {
			s.testValidIDs(t, strings.Repeat("a", sessions.MaxIDLength), strings.Repeat("a", sessions.MaxIDLength-1)+"b")
		}},
		{"Dash", func(t *testing.T) { s.testValidIDs(t, "-", "--", "-a", "a-") }},
		{"Underscore", func(t *testing.T) { s.testValidIDs(t, "_", "__", "_a", "a_") }},
		{"WholeAlphabet", func(t *testing.T) {
			s.testValidIDs(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
		}},
		{"CaseSensitive", func(t *testing.T) { s.testValidIDs(t, "ab", "Ab", "aB", "AB") }},
	}
}

// testGeneratedIDs: every id [sessions.NewID] makes is accepted.
func (s *suite) testGeneratedIDs(t *testing.T) {
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = sessions.NewID()
	}
	s.testValidIDs(t, ids...)
}

// testValidIDs: every id of ids is accepted by every method and is an
// entry of its own: ids that differ in case only, or share a prefix, do
// not alias each other (case-insensitive file systems fold "Ab" and "ab").
func (s *suite) testValidIDs(t *testing.T, ids ...string) {
	st := s.newStorage(t)
	for i, id := range ids {
		if err := put(t.Context(), st, id, later(), value(i, 32)); err != nil {
			t.Fatalf("Write with the valid id %s returned %v, want nil", describeID(id), err)
		}
	}
	for i, id := range ids {
		wantContent(t, st, id, value(i, 32), "Read of the valid id "+describeID(id)+", written along with "+fmt.Sprint(len(ids)-1)+" others")
	}
	wantListed(t, st, ids, "after writing only valid ids")
	if to, ok := st.(sessions.Toucher); ok {
		if err := to.Touch(t.Context(), ids[0], later()); err != nil {
			t.Errorf("Touch of the valid id %s returned %v, want nil", describeID(ids[0]), err)
		}
	}
	if err := st.Invalidate(t.Context(), ids[0]); err != nil {
		t.Fatalf("Invalidate of the valid id %s returned %v, want nil", describeID(ids[0]), err)
	}
	wantNotFound(t, st, ids[0], "Read after Invalidate")
	for i, id := range ids[1:] {
		wantContent(t, st, id, value(i+1, 32), "Read of the valid id "+describeID(id)+" after Invalidate of "+describeID(ids[0]))
	}
}

// describeID quotes short ids and summarises long ones.
func describeID(id string) string {
	if len(id) <= 40 {
		return fmt.Sprintf("%q", id)
	}
	return fmt.Sprintf("%q... (%d characters)", id[:20], len(id))
}
