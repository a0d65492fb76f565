package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// chunkSizes are the sizes of the successive io.Writer.Write calls with which
// put hands a value to a storage: a storage must concatenate them, whatever
// their sizes.
var chunkSizes = []int{1, 7, 100, 4096, 32 << 10}

// writeChunks returns a write func that writes data in chunks of the given
// sizes, cycling through them.
func writeChunks(data []byte, sizes ...int) func(io.Writer) error {
	if len(sizes) == 0 {
		sizes = chunkSizes
	}
	return func(w io.Writer) error {
		for i, rest := 0, data; len(rest) > 0; i++ {
			n := min(sizes[i%len(sizes)], len(rest))
			m, err := w.Write(rest[:n])
			if err != nil {
				return err
			}
			if m != n {
				return fmt.Errorf("storagetest: the storage's writer took %d of %d bytes without an error, which io.Writer forbids", m, n)
			}
			rest = rest[n:]
		}
		return nil
	}
}

// put writes data as the content of id.
func put(ctx context.Context, st sessions.Storage, id string, expires time.Time, data []byte) error {
	return st.Write(ctx, id, expires, writeChunks(data))
}

// mustPut writes data as the content of id and stops the subtest if the
// storage refuses: the rule under test starts from that content.
func mustPut(t *testing.T, st sessions.Storage, id string, expires time.Time, data []byte) {
	t.Helper()
	if err := put(t.Context(), st, id, expires, data); err != nil {
		t.Fatalf("Write of %d bytes to %q returned %v, want nil", len(data), id, err)
	}
}

// get reads the content of id. It reports a storage that calls the read func
// more than once, calls it and then reports not found, or returns nil
// without calling it: each breaks the Read contract whatever the rule under
// test.
func get(t *testing.T, ctx context.Context, st sessions.Storage, id string) ([]byte, error) {
	t.Helper()
	var data []byte
	calls := 0
	err := st.Read(ctx, id, func(r io.Reader) error {
		calls++
		var err error
		data, err = io.ReadAll(r)
		return err
	})
	switch {
	case calls > 1:
		t.Errorf("Read of %q called the read func %d times, want once", id, calls)
	case calls == 1 && errors.Is(err, sessions.ErrNotFound):
		t.Errorf("Read of %q called the read func and then returned %v; for an absent id it must not call it", id, err)
	case calls == 0 && err == nil:
		t.Errorf("Read of %q returned nil without calling the read func; want the read func called with the content, or an error", id)
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}

// wantContent checks that id holds exactly want; what says why it should.
func wantContent(t *testing.T, st sessions.Storage, id string, want []byte, what string) {
	t.Helper()
	got, err := get(t, t.Context(), st, id)
	if err != nil {
		t.Errorf("%s: Read of %q returned %v, want the %d bytes written", what, id, err, len(want))
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: Read of %q returned %s, want the %d bytes written", what, id, diff(got, want), len(want))
	}
}

// wantNotFound checks that Read of id reports ErrNotFound; what says why it
// should.
func wantNotFound(t *testing.T, st sessions.Storage, id string, what string) {
	t.Helper()
	got, err := get(t, t.Context(), st, id)
	switch {
	case err == nil:
		t.Errorf("%s: Read of %q returned %d bytes, want an error wrapping sessions.ErrNotFound", what, id, len(got))
	case !errors.Is(err, sessions.ErrNotFound):
		t.Errorf("%s: Read of %q returned %q, want an error wrapping sessions.ErrNotFound (errors.Is)", what, id, err)
	}
}

// diff describes how got differs from want, briefly enough for a message
// about a value of a mebibyte.
func diff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := range n {
		if got[i] != want[i] {
			return fmt.Sprintf("%d bytes differing from byte %d on (0x%02x, want 0x%02x)", len(got), i, got[i], want[i])
		}
	}
	switch {
	case len(got) > len(want):
		return fmt.Sprintf("%d bytes: the %d written followed by %d stale or extra bytes", len(got), len(want), len(got)-len(want))
	case len(got) == 0:
		return "0 bytes"
	case len(got) < len(want):
		return fmt.Sprintf("%d bytes: a prefix of the value written, missing its last %d bytes", len(got), len(want)-len(got))
	}
	return fmt.Sprintf("the same %d bytes", len(got))
}

// canceledContext returns a context that is already canceled.
func canceledContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// maxListed bounds how many ids Run collects from one List, so that a List
// that never ends fails the subtest instead of hanging it.
const maxListed = 100_000

// list collects what l yields. It stops at the first error.
func list(ctx context.Context, l sessions.Lister) ([]string, error) {
	var ids []string
	for id, err := range l.List(ctx) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
		if len(ids) > maxListed {
			return ids, fmt.Errorf("storagetest: List yielded more than %d ids; the storage holds far fewer", maxListed)
		}
	}
	return ids, nil
}

// wantListed checks, when st is a Lister, that List yields exactly want,
// each once, in any order; what says why. A storage without List is checked
// by the subtest's reads alone.
func wantListed(t *testing.T, st sessions.Storage, want []string, what string) {
	t.Helper()
	l, ok := st.(sessions.Lister)
	if !ok {
		return
	}
	got, err := list(t.Context(), l)
	if err != nil {
		t.Errorf("%s: List yielded the error %v after %d ids, want every live id and no error", what, err, len(got))
		return
	}
	if msg := compareIDs(got, want); msg != "" {
		t.Errorf("%s: List %s", what, msg)
	}
}

// compareIDs describes how the ids a List yielded differ from the live ids,
// or returns "" when they are the same set with no repeats.
func compareIDs(got, want []string) string {
	return compareSets(got, want, "the %d live ones", "ids that are not live", "live ids")
}

// compareSets describes how the ids got differ from want, or returns ""
// when they are the same set with no repeats. wantWhat (with a %d for the
// count) names the ids wanted, extraWhat the ids got that are not among
// them, and missingWhat the wanted ids left out.
func compareSets(got, want []string, wantWhat, extraWhat, missingWhat string) string {
	seen := make(map[string]int, len(got))
	for _, id := range got {
		seen[id]++
	}
	live := make(map[string]bool, len(want))
	for _, id := range want {
		live[id] = true
	}
	var repeated, extra, missing []string
	for id, n := range seen {
		if n > 1 {
			repeated = append(repeated, id)
		}
		if !live[id] {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	if len(repeated)+len(extra)+len(missing) == 0 {
		return ""
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "yielded %d ids, want exactly "+wantWhat+", each once:", len(got), len(want))
	if len(extra) > 0 {
		fmt.Fprintf(&b, " it yielded %d %s (%s)", len(extra), extraWhat, sample(extra))
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, " it left out %d %s (%s)", len(missing), missingWhat, sample(missing))
	}
	if len(repeated) > 0 {
		fmt.Fprintf(&b, " it yielded %d ids more than once (%s)", len(repeated), sample(repeated))
	}
	return b.String()
}

// sample quotes the first few ids of a sorted copy of ids.
func sample(ids []string) string {
	ids = slices.Sorted(slices.Values(ids))
	const n = 5
	var b bytes.Buffer
	for i, id := range ids[:min(n, len(ids))] {
		if i > 0 {
			b.WriteString(", ")
		}
		if len(id) > 40 {
			id = id[:37] + "..."
		}
		fmt.Fprintf(&b, "%q", id)
	}
	if len(ids) > n {
		fmt.Fprintf(&b, " and %d more", len(ids)-n)
	}
	return b.String()
}

// value returns n bytes that identify seed: a value written under one seed
// differs from any written under another in every byte position a short
// overwrite or a torn write could mix up.
func value(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*31 + i*7 + i/251)
	}
	return b
}
