package storagetest

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestDiffNamesTheBug: the description of a wrong value says what kind of
// wrong it is, since that is what a storage author reads first.
func TestDiffNamesTheBug(t *testing.T) {
	want := []byte("hello")
	for _, c := range []struct {
		name string
		got  []byte
		says string
	}{
		{"StaleTail", []byte("hello, world"), "the 5 written followed by 7 stale or extra bytes"},
		{"Truncated", []byte("hel"), "a prefix of the value written, missing its last 2 bytes"},
		{"Changed", []byte("jello"), "differing from byte 0 on (0x6a, want 0x68)"},
		{"Empty", []byte{}, "0 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := diff(c.got, want); !strings.Contains(got, c.says) {
				t.Errorf("diff(%q, %q) = %q, want it to say %q", c.got, want, got, c.says)
			}
		})
	}
}

// TestCompareIDsFindsEveryKindOfMismatch: a List result is compared as a set
// without repeats.
func TestCompareIDsFindsEveryKindOfMismatch(t *testing.T) {
	live := []string{"a", "b", "c"}
	for _, c := range []struct {
		name string
		got  []string
		says string // "" for a match
	}{
		{"SameOrder", []string{"a", "b", "c"}, ""},
		{"OtherOrder", []string{"c", "a", "b"}, ""},
		{"Extra", []string{"a", "b", "c", "x"}, `1 ids that are not live ("x")`},
		{"Missing", []string{"a", "c"}, `left out 1 live ids ("b")`},
		{"Repeated", []string{"a", "b", "c", "a"}, `1 ids more than once ("a")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := compareIDs(c.got, live)
			if c.says == "" && got != "" || !strings.Contains(got, c.says) {
				t.Errorf("compareIDs(%q, %q) = %q, want %q in it", c.got, live, got, c.says)
			}
		})
	}
}

// TestPayloadsTellWholeFromTorn: the concurrency subtests recognise each
// whole value, and a mix of two values or a prefix of one is none of them.
func TestPayloadsTellWholeFromTorn(t *testing.T) {
	p := newPayloads(3)
	for k := range p {
		if got, _ := p.which(bytes.Clone(p[k])); got != k {
			t.Errorf("which(payload %d) = %d, want %d", k, got, k)
		}
	}
	torn := append(bytes.Clone(p[1][:payloadSize/2]), p[2][payloadSize/2:]...)
	if k, what := p.which(torn); k >= 0 || !strings.Contains(what, "torn mix of values [1 2]") {
		t.Errorf("which(half of 1, half of 2) = %d, %q; want -1 and a torn mix of values [1 2]", k, what)
	}
	if k, what := p.which(p[0][:payloadChunk]); k >= 0 || !strings.Contains(what, "not a whole") {
		t.Errorf("which(a prefix of 0) = %d, %q; want -1 and not a whole value", k, what)
	}
}

// TestWriteChunksHandsOverEveryByte: the chunked write func used by every
// subtest delivers the value whole and in several calls.
func TestWriteChunksHandsOverEveryByte(t *testing.T) {
	v := value(3, 40_000)
	var calls int
	var buf bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		calls++
		return buf.Write(p)
	})
	if err := writeChunks(v)(w); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), v) {
		t.Errorf("writeChunks delivered %s, want the %d bytes given", diff(buf.Bytes(), v), len(v))
	}
	if calls < len(chunkSizes) {
		t.Errorf("writeChunks made %d Write calls, want at least %d", calls, len(chunkSizes))
	}
	if err := writeChunks(v)(writerFunc(func(p []byte) (int, error) { return len(p) - 1, nil })); err == nil {
		t.Error("writeChunks accepted a short write without an error, want an error")
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)
