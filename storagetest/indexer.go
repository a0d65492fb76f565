package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

//lint:file-ignore ST1005 these errors become failure messages, which start with the name of the method they report on

// The Indexer group checks [sessions.Indexer]: a storage's index of entries
// by index key, what lists a user's sessions ("your devices") and ends them
// all. Spring Session's FindByIndexNameSessionRepository, the one peer that
// has such an index, fixed bugs in it for years, each a way of listing what
// ended or of missing what lives; the rules below are named after what they
// check, and their comments name the Spring issue of the same class:
//
//   - #343: the index was not updated when a session's principal changed,
//     so the old user still listed the session (MovesWithPrincipalChange).
//   - #1791, #1914, #1972, #1987: after changeSessionId (a renewal) the
//     index kept the old id, or lacked the new one (RenewedAwayNotListed,
//     PlainWritesUnfile).
//   - #2614: expired sessions stayed in the index (ExpiredNotListed,
//     SweptNotListed).
//
// What the group cannot see through the public API, it does not claim to
// check: that the filing travels with the write in one round trip, that
// ReadIndex costs what the index key's entries cost and not what the store
// holds (each backend measures that with BenchmarkReadIndexGrowth), and
// that the space of ended entries' filings is given back.
func (s *suite) indexerCases() []testCase {
	return []testCase{
		{"FilesAndReads", s.testIndexFilesAndReads},
		{"NoLeakAcrossIndexKeys", s.testIndexNoLeak},
		{"EmptyIndexKeyFilesNothing", s.testIndexEmptyKey},
		{"CreateOverLiveChangesNothing", s.testIndexCreateLive},
		{"ReusedIDLeavesOldIndexKey", s.testIndexReusedID},
		{"MovesWithPrincipalChange", s.testIndexMoves},
		{"RenewedAwayNotListed", s.testIndexRenewedAway},
		{"PlainWritesUnfile", s.testIndexPlainWritesUnfile},
		{"InvalidateUnlists", s.testIndexInvalidate},
		{"TouchKeepsFiling", s.testIndexTouch},
		{"ExpiredNotListed", s.testIndexExpired},
		{"SweptNotListed", s.testIndexSwept},
		{"ReplaceIndexedNeverCreates", s.testIndexReplaceAbsent},
		{"FailedWriteChangesNothing", s.testIndexFailedWrite},
		{"ManyUnderOneKey", s.testIndexMany},
		{"ReadErrorStops", s.testIndexReadError},
		{"Canceled", s.testIndexCanceled},
		{"InvalidIndexKey", s.testIndexInvalidKey},
		{"CallsAfterClose", s.testIndexClosed},
		{"ConcurrentFilingsMatchModel", s.testIndexConcurrentFilings},
		{"ConcurrentMovesLastWriterWins", s.testIndexConcurrentMoves},
		{"OneVersionPerEntry", s.testIndexOneVersion},
		{"SurvivesReopen", s.testIndexReopen},
	}
}

// indexer returns st's Indexer, or skips the subtest when it has none.
func indexer(t *testing.T, st sessions.Storage) sessions.Indexer {
	t.Helper()
	ix, ok := st.(sessions.Indexer)
	if !ok {
		t.Skip("the storage does not implement sessions.Indexer")
	}
	return ix
}

// hashedKey returns an index key of the form the middleware uses: 43
// characters of the id alphabet, a SHA-256 in unpadded base64url.
func hashedKey(name string) string {
	sum := sha256.Sum256([]byte("storagetest/index-key\x00" + name))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// createIndexed and replaceIndexed write data in chunks, as put does.
func createIndexed(t *testing.T, ix sessions.Indexer, id, index string, expires time.Time, data []byte) error {
	return ix.CreateIndexed(t.Context(), id, index, expires, writeChunks(data))
}

func replaceIndexed(t *testing.T, ix sessions.Indexer, id, index string, expires time.Time, data []byte) error {
	return ix.ReplaceIndexed(t.Context(), id, index, expires, writeChunks(data))
}

// mustCreateIndexed files a new entry and stops the subtest if the storage
// refuses: the rule under test starts from that entry.
func mustCreateIndexed(t *testing.T, ix sessions.Indexer, id, index string, expires time.Time, data []byte) {
	t.Helper()
	if err := createIndexed(t, ix, id, index, expires, data); err != nil {
		t.Fatalf("CreateIndexed of the new id %q under %q returned %v, want nil", id, index, err)
	}
}

// mustReplaceIndexed refiles a live entry and stops the subtest if the
// storage refuses.
func mustReplaceIndexed(t *testing.T, ix sessions.Indexer, id, index string, expires time.Time, data []byte) {
	t.Helper()
	if err := replaceIndexed(t, ix, id, index, expires, data); err != nil {
		t.Fatalf("ReplaceIndexed of the live id %q under %q returned %v, want nil", id, index, err)
	}
}

// listing is one entry ReadIndex yielded.
type listing struct {
	id      string
	expires time.Time
	data    []byte
}

// errTooManyListed stops a ReadIndex that yields far more than the storage
// holds, so that one that never ends fails the subtest instead of hanging it.
var errTooManyListed = fmt.Errorf("storagetest: ReadIndex yielded more than %d entries; the storage holds far fewer", maxListed)

// readIndex collects what ReadIndex of index yields. The contract does not
// say whether read is called from one goroutine, so the collection is
// guarded.
func readIndex(ctx context.Context, ix sessions.Indexer, index string) ([]listing, error) {
	var (
		mu  sync.Mutex
		got []listing
	)
	err := ix.ReadIndex(ctx, index, func(id string, expires time.Time, r io.Reader) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, listing{id, expires, data})
		if len(got) > maxListed {
			return errTooManyListed
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	return got, err
}

// filing is what an index key must list for one id: its content and
// expiry.
type filing struct {
	data    []byte
	expires time.Time
}

// wantIndex checks that ReadIndex of index yields exactly the ids of want,
// each once, with its content and its expiry (within the storage's
// resolution); what says why.
func (s *suite) wantIndex(t *testing.T, ix sessions.Indexer, index string, want map[string]filing, what string) {
	t.Helper()
	got, err := readIndex(t.Context(), ix, index)
	s.compareIndex(t, index, got, err, want, what)
}

// wantIndexBefore is wantIndex for a listing that holds an entry expiring
// at exp: on a machine too slow to read the index before exp it logs and
// skips the check, as wantLiveBefore does.
func (s *suite) wantIndexBefore(t *testing.T, ix sessions.Indexer, index string, exp time.Time, want map[string]filing, what string) {
	t.Helper()
	got, err := readIndex(t.Context(), ix, index)
	if err == nil && !s.stillLive(exp) {
		t.Logf("%s: the machine was too slow to read the index before an entry expired; not checking what it listed", what)
		return
	}
	s.compareIndex(t, index, got, err, want, what)
}

// compareIndex checks what ReadIndex of index yielded (got, then err)
// against want; see wantIndex.
func (s *suite) compareIndex(t *testing.T, index string, got []listing, err error, want map[string]filing, what string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: ReadIndex of %q returned %v after %d entries, want the %d live entries filed under it and nil", what, index, err, len(got), len(want))
		return
	}
	ids := make([]string, len(got))
	for i, g := range got {
		ids[i] = g.id
	}
	if msg := compareSets(ids, slices.Collect(maps.Keys(want)), "the %d live entries filed under it", "ids that are not live entries filed under it", "live entries filed under it"); msg != "" {
		t.Errorf("%s: ReadIndex of %q %s", what, index, msg)
	}
	tolerance := max(s.resolution, time.Millisecond)
	for _, g := range got {
		w, ok := want[g.id]
		if !ok {
			continue
		}
		if !bytes.Equal(g.data, w.data) {
			t.Errorf("%s: ReadIndex of %q yielded %q with %s, want the %d bytes last written to it", what, index, g.id, diff(g.data, w.data), len(w.data))
		}
		switch {
		case w.expires.IsZero() && !g.expires.IsZero():
			t.Errorf("%s: ReadIndex of %q yielded %q with the expiry %v, want the zero Time (never)", what, index, g.id, g.expires)
		case !w.expires.IsZero() && g.expires.IsZero():
			t.Errorf("%s: ReadIndex of %q yielded %q with the zero Time (never), want its expiry %v", what, index, g.id, w.expires)
		case !w.expires.IsZero() && (g.expires.Sub(w.expires) > tolerance || w.expires.Sub(g.expires) > tolerance):
			t.Errorf("%s: ReadIndex of %q yielded %q with the expiry %v, %v off its expiry %v; want it within %v", what, index, g.id, g.expires, g.expires.Sub(w.expires), w.expires, tolerance)
		}
	}
}

// wantIndexEmpty checks that ReadIndex of index yields nothing.
func (s *suite) wantIndexEmpty(t *testing.T, ix sessions.Indexer, index string, what string) {
	t.Helper()
	s.wantIndex(t, ix, index, nil, what)
}

// testIndexFilesAndReads: CreateIndexed files a new entry under its index
// key and ReplaceIndexed files a live one; ReadIndex yields each once with
// its id, its expiry and exactly its content, an empty one and a large one
// included. The filed entries are ordinary entries too: Read finds them,
// and List yields them and nothing else (no index record is an entry).
func (s *suite) testIndexFilesAndReads(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	hour, day := later(), time.Now().Add(24*time.Hour)
	small, empty, big := value(1, 100), []byte{}, value(3, 70_000)
	for _, index := range []string{"ann", hashedKey("ann")} {
		mustCreateIndexed(t, ix, index+"-created", index, hour, small)
		mustCreateIndexed(t, ix, index+"-empty", index, time.Time{}, empty)
		mustPut(t, st, index+"-written", hour, value(4, 10))
		mustReplaceIndexed(t, ix, index+"-written", index, day, big)
		s.wantIndex(t, ix, index, map[string]filing{
			index + "-created": {small, hour},
			index + "-empty":   {empty, time.Time{}},
			index + "-written": {big, day},
		}, "after CreateIndexed of two new ids and ReplaceIndexed of a written one")
		wantContent(t, st, index+"-created", small, "Read of an entry made by CreateIndexed")
		wantContent(t, st, index+"-empty", empty, "Read of an empty entry made by CreateIndexed")
		wantContent(t, st, index+"-written", big, "Read of an entry replaced by ReplaceIndexed")
		if er, ok := st.(sessions.ExpiryReader); ok {
			s.wantExpiry(t, er, index+"-created", small, hour, "after CreateIndexed")
			s.wantExpiry(t, er, index+"-written", big, day, "after ReplaceIndexed")
		}
	}
	wantListed(t, st, []string{
		"ann-created", "ann-empty", "ann-written",
		hashedKey("ann") + "-created", hashedKey("ann") + "-empty", hashedKey("ann") + "-written",
	}, "after filing six entries under two index keys (an index record is not an entry)")
}

// testIndexNoLeakAcrossIndexKeys: ReadIndex of one index key yields the
// entries filed under it and no others: not those of a key that differs in
// case only ("Ann"; a case-insensitive collation), extends it ("ann-2"; a
// prefix match in a SCAN or LIKE pattern) or is a prefix of it ("an"); not
// the entries written without an index key; and an index key that is also
// the id of an entry does not mix the two (index records kept in the
// entries' key space). An index key with nothing filed under it is not an
// error.
func (s *suite) testIndexNoLeak(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	keys := []string{"ann", "Ann", "ann-2", "an", "bob", "plain-0", hashedKey("ann"), hashedKey("bob")}
	want := make(map[string]map[string]filing, len(keys))
	var all []string
	for i, index := range keys {
		want[index] = make(map[string]filing)
		for j := range 2 {
			id := fmt.Sprintf("e%d-%d", i, j)
			exp := later()
			v := value(10*i+j, 20+j)
			mustCreateIndexed(t, ix, id, index, exp, v)
			want[index][id] = filing{v, exp}
			all = append(all, id)
		}
	}
	// Entries whose ids are index keys: "ann" filed under "bob", and
	// "plain-0" written with no index key.
	exp := later()
	mustCreateIndexed(t, ix, "ann", "bob", exp, value(90, 30))
	want["bob"]["ann"] = filing{value(90, 30), exp}
	for i := range 3 {
		mustPut(t, st, fmt.Sprintf("plain-%d", i), later(), value(i, 10))
	}
	all = append(all, "ann", "plain-0", "plain-1", "plain-2")
	for _, index := range keys {
		s.wantIndex(t, ix, index, want[index], fmt.Sprintf("after filing entries under %d index keys that are alike", len(keys)))
	}
	called := false
	if err := ix.ReadIndex(t.Context(), "nobody", func(string, time.Time, io.Reader) error { called = true; return nil }); err != nil {
		t.Errorf("ReadIndex of an index key with nothing filed under it returned %v, want nil (an empty index key is not an error)", err)
	}
	if called {
		t.Errorf("ReadIndex of an index key with nothing filed under it called the read func, want it not called")
	}
	wantListed(t, st, all, "after filing entries under several index keys (an index record is not an entry)")
}

// testIndexEmptyKey: the empty index key files an entry under none:
// CreateIndexed and ReplaceIndexed with "" store the entry as Create and
// Replace do, and a ReplaceIndexed with "" takes an entry out of the index
// key it was filed under. ReadIndex of "" yields nothing (it may refuse the
// key with ErrInvalidID).
func (s *suite) testIndexEmptyKey(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	v, v2 := value(1, 50), value(2, 50)
	if err := createIndexed(t, ix, "none", "", later(), v); err != nil {
		t.Fatalf(`CreateIndexed of a new id under the empty index key "" returned %v, want nil (it files under none)`, err)
	}
	wantContent(t, st, "none", v, `Read of an entry made by CreateIndexed under ""`)
	mustCreateIndexed(t, ix, "moved", "ann", later(), v)
	if err := replaceIndexed(t, ix, "moved", "", later(), v2); err != nil {
		t.Fatalf(`ReplaceIndexed of a live entry under the empty index key "" returned %v, want nil`, err)
	}
	wantContent(t, st, "moved", v2, `Read of an entry replaced by ReplaceIndexed under ""`)
	s.wantIndexEmpty(t, ix, "ann", `after ReplaceIndexed under "" of the only entry filed under "ann" (it leaves "ann")`)
	called := 0
	err := ix.ReadIndex(t.Context(), "", func(string, time.Time, io.Reader) error { called++; return nil })
	if err != nil && !errors.Is(err, sessions.ErrInvalidID) {
		t.Errorf(`ReadIndex of the empty index key "" returned %v, want nil or an error wrapping sessions.ErrInvalidID`, err)
	}
	if called > 0 {
		t.Errorf(`ReadIndex of the empty index key "" called the read func %d times, want none: "" files an entry under no index key`, called)
	}
	wantListed(t, st, []string{"none", "moved"}, `after writes under the empty index key`)
}

// testIndexCreateLive: CreateIndexed over a live id reports ErrExists and
// changes nothing: not the content, not the expiry, and not the filing, so
// the index key it names does not gain the id (a filing written in the
// same MULTI as a SET NX that fails, say).
func (s *suite) testIndexCreateLive(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	v, vp := value(1, 100), value(2, 100)
	hour := later()
	mustCreateIndexed(t, ix, "taken", "ann", hour, v)
	mustPut(t, st, "plain", hour, vp)
	for _, c := range []struct{ id, index, what string }{
		{"taken", "bob", "an entry filed under another index key"},
		{"taken", "ann", "an entry filed under the same index key"},
		{"plain", "bob", "an entry written with no index key"},
	} {
		err := createIndexed(t, ix, c.id, c.index, hour.Add(time.Hour), value(9, 40))
		if !errors.Is(err, sessions.ErrExists) {
			t.Errorf("CreateIndexed under %q over the live id of %s returned %v, want an error wrapping sessions.ErrExists", c.index, c.what, err)
		}
	}
	wantContent(t, st, "taken", v, "Read after refused CreateIndexed calls (the live content must stay)")
	wantContent(t, st, "plain", vp, "Read after a refused CreateIndexed (the live content must stay)")
	s.wantIndex(t, ix, "ann", map[string]filing{"taken": {v, hour}}, "after refused CreateIndexed calls over its entry (content, expiry and filing must stay)")
	s.wantIndexEmpty(t, ix, "bob", "after CreateIndexed calls under it were refused with ErrExists (it must not gain the ids)")
}

// testIndexReusedID: an id whose entry ended (expired, or invalidated) and
// that CreateIndexed files again under another index key is listed under
// the new one only: what the old index key held for the ended entry does
// not make the new entry appear under it. A storage that checks, for each
// id its filing set holds, only that the entry is live (and not that it is
// filed under this index key) fails here.
func (s *suite) testIndexReusedID(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	exp := s.soon()
	mustCreateIndexed(t, ix, "lapsed", "ann", exp, value(1, 40))
	mustCreateIndexed(t, ix, "removed", "ann", later(), value(1, 40))
	if err := st.Invalidate(t.Context(), "removed"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	s.waitPast(exp)
	v := value(2, 40)
	hour := later()
	for _, id := range []string{"lapsed", "removed"} {
		if err := createIndexed(t, ix, id, "bob", hour, v); err != nil {
			t.Fatalf("CreateIndexed of an id whose entry ended returned %v, want nil", err)
		}
	}
	s.wantIndexEmpty(t, ix, "ann", "after the entries filed under it ended and their ids were filed again under another index key")
	s.wantIndex(t, ix, "bob", map[string]filing{"lapsed": {v, hour}, "removed": {v, hour}}, "after CreateIndexed filed ids whose entries had ended under it")
}

// testIndexMoves: ReplaceIndexed under another index key moves the entry:
// the old key no longer lists it, the new one does, with the new content
// and expiry, and it can move back. Spring Session #343: when a session's
// principal changed, the index of the old principal kept the session.
func (s *suite) testIndexMoves(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	hour, day := later(), time.Now().Add(24*time.Hour)
	v1, vs := value(1, 60), value(5, 60)
	mustCreateIndexed(t, ix, "moving", "ann", hour, v1)
	mustCreateIndexed(t, ix, "staying", "ann", hour, vs)
	v2 := value(2, 70)
	mustReplaceIndexed(t, ix, "moving", "bob", day, v2)
	s.wantIndex(t, ix, "ann", map[string]filing{"staying": {vs, hour}}, "after ReplaceIndexed moved one of its entries to another index key (Spring Session #343)")
	s.wantIndex(t, ix, "bob", map[string]filing{"moving": {v2, day}}, "after ReplaceIndexed moved an entry to it")
	v3 := value(3, 80)
	mustReplaceIndexed(t, ix, "moving", "bob", hour, v3)
	s.wantIndex(t, ix, "bob", map[string]filing{"moving": {v3, hour}}, "after ReplaceIndexed rewrote an entry under the index key it is filed under (it is listed once)")
	v4 := value(4, 90)
	mustReplaceIndexed(t, ix, "moving", "ann", day, v4)
	s.wantIndex(t, ix, "ann", map[string]filing{"staying": {vs, hour}, "moving": {v4, day}}, "after ReplaceIndexed moved an entry back to it")
	s.wantIndexEmpty(t, ix, "bob", "after ReplaceIndexed moved its only entry back to where it came from")
	wantContent(t, st, "moving", v4, "Read after ReplaceIndexed moved the entry three times")
}

// testIndexRenewedAway: a renewal files the new id and ends the old one,
// and the index key then lists the new id and not the old. The middleware
// renews with CreateIndexed of the new id and a Replace of the old one with
// an expiry in the past; the old id may also end by ReplaceIndexed with a
// past expiry, Invalidate, or a Write with a past expiry. Spring Session
// #1791, #1914, #1972 and #1987: after changeSessionId the index still held
// the old id, or did not hold the new one.
func (s *suite) testIndexRenewedAway(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	hour := later()
	vo := value(9, 30)
	mustCreateIndexed(t, ix, "other", "ann", hour, vo)
	want := map[string]filing{"other": {vo, hour}}
	type ending struct {
		name string
		end  func(id string) error
	}
	var endings []ending
	if cw, ok := st.(sessions.ConditionalWriter); ok {
		endings = append(endings, ending{"Replace with a past expiry", func(id string) error {
			return cw.Replace(t.Context(), id, past(), writeChunks(nil))
		}})
	}
	endings = append(endings, []ending{
		{"ReplaceIndexed with a past expiry", func(id string) error {
			return ix.ReplaceIndexed(t.Context(), id, "ann", past(), writeChunks(nil))
		}},
		{"Invalidate", func(id string) error { return st.Invalidate(t.Context(), id) }},
		{"Write with a past expiry", func(id string) error {
			_ = st.Write(t.Context(), id, past(), writeChunks(nil)) // either outcome is allowed
			return nil
		}},
	}...)
	for i, e := range endings {
		old, renewed := fmt.Sprintf("old-%d", i), fmt.Sprintf("new-%d", i)
		v := value(i, 50)
		mustCreateIndexed(t, ix, old, "ann", hour, v)
		mustCreateIndexed(t, ix, renewed, "ann", hour, v)
		if err := e.end(old); err != nil {
			t.Fatalf("%s of a live entry (the renewed-away id) returned %v, want nil", e.name, err)
		}
		wantNotFound(t, st, old, "Read of a renewed-away id ended by "+e.name)
		want[renewed] = filing{v, hour}
		s.wantIndex(t, ix, "ann", want, "after renewing "+fmt.Sprint(i+1)+" entries: CreateIndexed of each new id and "+e.name+" of the old (Spring Session #1972)")
	}
}

// testIndexPlainWritesUnfile: Write, Create and Replace file an entry under
// no index key, so rewriting a filed entry without one takes it out of its
// index key (the middleware relies on it when a session's index key
// becomes ""). The content they wrote stays readable.
func (s *suite) testIndexPlainWritesUnfile(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	v1, v2 := value(1, 40), value(2, 40)
	hour := later()
	mustCreateIndexed(t, ix, "kept", "ann", hour, v1)
	mustCreateIndexed(t, ix, "written", "ann", hour, v1)
	mustPut(t, st, "written", hour, v2)
	ids := []string{"kept", "written"}
	if cw, ok := st.(sessions.ConditionalWriter); ok {
		mustCreateIndexed(t, ix, "replaced", "ann", hour, v1)
		if err := replace(t, cw, "replaced", hour, v2); err != nil {
			t.Fatalf("Replace of a live entry returned %v, want nil", err)
		}
		exp := s.soon()
		mustCreateIndexed(t, ix, "created", "ann", exp, v1)
		s.waitPast(exp)
		if err := create(t, cw, "created", hour, v2); err != nil {
			t.Fatalf("Create over an expired entry returned %v, want nil", err)
		}
		ids = append(ids, "replaced", "created")
	}
	for _, id := range ids[1:] {
		wantContent(t, st, id, v2, "Read of a filed entry rewritten without an index key")
	}
	s.wantIndex(t, ix, "ann", map[string]filing{"kept": {v1, hour}}, "after Write, Replace and Create rewrote entries filed under it (they file under none)")
	wantListed(t, st, ids, "after rewriting filed entries without an index key")
}

// testIndexInvalidate: Invalidate takes the entry out of its index key at
// once; the others stay listed, and the id can be filed again elsewhere.
func (s *suite) testIndexInvalidate(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	hour := later()
	want := make(map[string]filing)
	for i, id := range []string{"a", "b", "c"} {
		mustCreateIndexed(t, ix, id, "ann", hour, value(i, 30))
		want[id] = filing{value(i, 30), hour}
	}
	invalidate := func(id string) {
		t.Helper()
		if err := st.Invalidate(t.Context(), id); err != nil {
			t.Fatalf("Invalidate of a filed entry returned %v, want nil", err)
		}
		delete(want, id)
	}
	invalidate("b")
	s.wantIndex(t, ix, "ann", want, "after Invalidate of one of its three entries")
	invalidate("a")
	invalidate("c")
	s.wantIndexEmpty(t, ix, "ann", "after Invalidate of all its entries")
	v := value(7, 30)
	mustCreateIndexed(t, ix, "b", "bob", hour, v)
	s.wantIndex(t, ix, "bob", map[string]filing{"b": {v, hour}}, "after an invalidated id was filed again under it")
	s.wantIndexEmpty(t, ix, "ann", "after an id invalidated there was filed again under another index key")
	wantListed(t, st, []string{"b"}, "after invalidating filed entries")
}

// testIndexTouch: Touch keeps the filing and moves the expiry ReadIndex
// reports, later, to never, or earlier; once the touched expiry passes the
// entry is no longer listed, and a Touch to the past ends it at once.
func (s *suite) testIndexTouch(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	to := toucher(t, st)
	v := value(1, 40)
	exp := s.soon()
	mustCreateIndexed(t, ix, "slid", "ann", exp, v)
	hour := later()
	s.touchBefore(t, to, "slid", exp, hour, "to an hour ahead")
	s.wantIndex(t, ix, "ann", map[string]filing{"slid": {v, hour}}, "after Touch moved the expiry of its entry an hour ahead")
	s.touchBefore(t, to, "slid", hour, time.Time{}, "to the zero Time (never)")
	s.wantIndex(t, ix, "ann", map[string]filing{"slid": {v, time.Time{}}}, "after Touch gave its entry no expiry")
	mustCreateIndexed(t, ix, "cut", "ann", hour, v)
	mustCreateIndexed(t, ix, "ended", "ann", hour, v)
	short := s.soon()
	s.touchBefore(t, to, "cut", hour, short, "from an hour ahead to a short expiry")
	if err := to.Touch(t.Context(), "ended", past()); err != nil && !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch of a filed entry to an hour in the past returned %v, want nil (or ErrNotFound)", err)
	}
	want := map[string]filing{"slid": {v, time.Time{}}, "cut": {v, short}}
	s.wantIndexBefore(t, ix, "ann", short, want, "after Touch shortened the expiry of one entry and moved another's to the past")
	s.waitPast(short)
	delete(want, "cut")
	s.wantIndex(t, ix, "ann", want, "after the expiry Touch gave one of its entries passed")
}

// testIndexExpired: an entry whose expiry has passed is not listed, with no
// sweep having run; one written with an expiry in the past is not listed
// either. Spring Session #2614: expired sessions stayed in the index until
// a cleanup job ran, and were listed meanwhile.
func (s *suite) testIndexExpired(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	v := value(1, 40)
	exp, hour := s.soon(), later()
	mustCreateIndexed(t, ix, "short-created", "ann", exp, v)
	mustPut(t, st, "short-replaced", hour, value(2, 40))
	mustReplaceIndexed(t, ix, "short-replaced", "ann", exp, v)
	mustCreateIndexed(t, ix, "long", "ann", hour, v)
	mustCreateIndexed(t, ix, "short-bob", "bob", exp, v)
	// An expiry already past stores nothing readable; either outcome of the
	// call is allowed, as for Write.
	_ = createIndexed(t, ix, "stale", "ann", past(), v)
	s.wantIndexBefore(t, ix, "ann", exp, map[string]filing{"short-created": {v, exp}, "short-replaced": {v, exp}, "long": {v, hour}}, "before the short expiries passed (an entry written already expired is not listed)")
	s.waitPast(exp)
	s.wantIndex(t, ix, "ann", map[string]filing{"long": {v, hour}}, "after the expiry of two of its entries passed, with no sweep (Spring Session #2614)")
	s.wantIndexEmpty(t, ix, "bob", "after the expiry of its only entry passed, with no sweep (Spring Session #2614)")
	wantNotFound(t, st, "stale", "Read of an id filed by CreateIndexed with an expiry in the past")
}

// testIndexSwept: DeleteExpired removes expired filed entries and counts
// entries, not index records; afterwards their index keys list only the
// live entries, and an id swept from one index key and filed again under
// another appears only there. The space of the swept filings cannot be
// seen through the API; the suite does not claim to check it.
func (s *suite) testIndexSwept(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	sw := sweeper(t, st)
	v := value(1, 40)
	exp, hour := s.soon(), later()
	mustCreateIndexed(t, ix, "e1", "ann", exp, v)
	mustCreateIndexed(t, ix, "e2", "ann", exp, v)
	mustCreateIndexed(t, ix, "e3", "bob", exp, v)
	mustPut(t, st, "plain", exp, v)
	mustCreateIndexed(t, ix, "live", "ann", hour, v)
	s.waitPast(exp)
	n, err := sw.DeleteExpired(t.Context())
	if err != nil || n != 4 {
		t.Errorf("DeleteExpired with 4 expired entries, 3 of them filed under index keys, returned (%d, %v), want (4, nil): it counts entries, not index records", n, err)
	}
	s.wantIndex(t, ix, "ann", map[string]filing{"live": {v, hour}}, "after DeleteExpired swept two of its entries (Spring Session #2614)")
	s.wantIndexEmpty(t, ix, "bob", "after DeleteExpired swept its only entry")
	v2 := value(2, 40)
	mustCreateIndexed(t, ix, "e1", "bob", hour, v2)
	s.wantIndex(t, ix, "bob", map[string]filing{"e1": {v2, hour}}, "after an id swept from another index key was filed under it")
	s.wantIndex(t, ix, "ann", map[string]filing{"live": {v, hour}}, "after an id swept from it was filed again under another index key")
	if n, err := sw.DeleteExpired(t.Context()); err != nil || n != 0 {
		t.Errorf("a second DeleteExpired with nothing expired returned (%d, %v), want (0, nil): index records are not entries", n, err)
	}
}

// testIndexReplaceAbsent: ReplaceIndexed of an id that is absent, expired
// or invalidated reports ErrNotFound, creates nothing and files nothing:
// when the id is written later without an index key, the index key that
// ReplaceIndexed named does not list it.
func (s *suite) testIndexReplaceAbsent(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	exp := s.soon()
	mustCreateIndexed(t, ix, "lapsed", "bob", exp, value(1, 40))
	mustCreateIndexed(t, ix, "removed", "bob", later(), value(1, 40))
	if err := st.Invalidate(t.Context(), "removed"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	s.waitPast(exp)
	cases := []struct{ id, what string }{{"unknown", "an id never written"}, {"lapsed", "an expired entry"}, {"removed", "an invalidated entry"}}
	for _, c := range cases {
		for _, e := range []time.Time{later(), {}} {
			if err := replaceIndexed(t, ix, c.id, "ann", e, value(2, 40)); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("ReplaceIndexed of %s returned %v, want an error wrapping sessions.ErrNotFound", c.what, err)
			}
		}
		wantNotFound(t, st, c.id, "Read after ReplaceIndexed of "+c.what+" (it must not create or revive)")
	}
	s.wantIndexEmpty(t, ix, "ann", "after ReplaceIndexed under it of an absent, an expired and an invalidated id")
	s.wantIndexEmpty(t, ix, "bob", "after its entries expired or were invalidated")
	wantListed(t, st, nil, "after ReplaceIndexed of absent ids")
	hour := later()
	for _, c := range cases {
		mustPut(t, st, c.id, hour, value(3, 40))
	}
	s.wantIndexEmpty(t, ix, "ann", "after ids it refused with ErrNotFound were written without an index key (a refused ReplaceIndexed must file nothing)")
}

// testIndexFailedWrite: a CreateIndexed or ReplaceIndexed whose write func
// fails returns its error and changes nothing: the content, the expiry and
// the filing stay, and nothing is created or filed.
func (s *suite) testIndexFailedWrite(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	v := value(1, 100)
	hour := later()
	mustCreateIndexed(t, ix, "kept", "ann", hour, v)
	for _, f := range []failure{failAtOnce, failHalfway} {
		if err := ix.ReplaceIndexed(t.Context(), "kept", "bob", hour.Add(time.Hour), f.write); !errors.Is(err, errWriteFunc) {
			t.Errorf("ReplaceIndexed with %s returned %v, want its error (errors.Is)", f.name, err)
		}
		if err := ix.CreateIndexed(t.Context(), "fresh", "ann", hour, f.write); !errors.Is(err, errWriteFunc) {
			t.Errorf("CreateIndexed with %s returned %v, want its error (errors.Is)", f.name, err)
		}
	}
	wantContent(t, st, "kept", v, "Read after ReplaceIndexed calls whose write funcs failed")
	wantNotFound(t, st, "fresh", "Read after CreateIndexed calls whose write funcs failed")
	s.wantIndex(t, ix, "ann", map[string]filing{"kept": {v, hour}}, "after ReplaceIndexed and CreateIndexed calls whose write funcs failed (content, expiry and filing must stay)")
	s.wantIndexEmpty(t, ix, "bob", "after ReplaceIndexed calls to it whose write funcs failed")
	wantListed(t, st, []string{"kept"}, "after indexed writes whose write funcs failed")
}

// testIndexMany: 50 entries under one index key, next to 50 under another
// and 20 with none, are each listed once with their own content.
func (s *suite) testIndexMany(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	const n = 50
	want := map[string]map[string]filing{"ann": {}, "bob": {}}
	for i := range n {
		for k, index := range []string{"ann", "bob"} {
			id := fmt.Sprintf("%s-%02d", index, i)
			exp := later()
			if i%5 == 0 {
				exp = time.Time{}
			}
			v := value(2*i+k, 16+i)
			mustCreateIndexed(t, ix, id, index, exp, v)
			want[index][id] = filing{v, exp}
		}
	}
	for i := range 20 {
		mustPut(t, st, fmt.Sprintf("plain-%02d", i), later(), value(i, 16))
	}
	s.wantIndex(t, ix, "ann", want["ann"], fmt.Sprintf("after filing %d entries under it, %d under another index key and 20 under none", n, n))
	s.wantIndex(t, ix, "bob", want["bob"], fmt.Sprintf("after filing %d entries under it, %d under another index key and 20 under none", n, n))
}

// testIndexReadError: when the read func fails, ReadIndex stops calling it
// and returns its error (errors.Is), and the entries stay filed.
func (s *suite) testIndexReadError(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	hour := later()
	want := make(map[string]filing)
	for i := range 10 {
		id := fmt.Sprintf("id-%d", i)
		mustCreateIndexed(t, ix, id, "ann", hour, value(i, 30))
		want[id] = filing{value(i, 30), hour}
	}
	for _, failAt := range []int{1, 3} {
		calls := 0
		err := ix.ReadIndex(t.Context(), "ann", func(_ string, _ time.Time, r io.Reader) error {
			calls++
			if calls == failAt {
				return errReadFunc
			}
			_, err := io.Copy(io.Discard, r)
			return err
		})
		if !errors.Is(err, errReadFunc) {
			t.Errorf("ReadIndex with a read func that fails on call %d returned %v, want its error (errors.Is)", failAt, err)
		}
		if calls != failAt {
			t.Errorf("ReadIndex with a read func that fails on call %d called it %d times, want it to stop after the failure", failAt, calls)
		}
	}
	s.wantIndex(t, ix, "ann", want, "after ReadIndex calls whose read funcs failed (nothing is removed)")
}

// testIndexCanceled: under a canceled context ReadIndex returns an error
// wrapping ctx.Err() without calling the read func, and CreateIndexed and
// ReplaceIndexed fail and change neither content nor filing.
func (s *suite) testIndexCanceled(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	v := value(1, 40)
	hour := later()
	mustCreateIndexed(t, ix, "target", "ann", hour, v)
	called := false
	wantCanceled(t, ix.ReadIndex(canceledContext(t), "ann", func(string, time.Time, io.Reader) error { called = true; return nil }), "ReadIndex")
	if called {
		t.Errorf("ReadIndex under a canceled context called the read func; want no effect")
	}
	wantCanceled(t, ix.ReplaceIndexed(canceledContext(t), "target", "bob", later(), writeChunks(value(2, 40))), "ReplaceIndexed")
	wantCanceled(t, ix.CreateIndexed(canceledContext(t), "fresh", "ann", later(), writeChunks(value(2, 40))), "CreateIndexed")
	wantContent(t, st, "target", v, "Read after a ReplaceIndexed under a canceled context")
	wantNotFound(t, st, "fresh", "Read after a CreateIndexed under a canceled context")
	s.wantIndex(t, ix, "ann", map[string]filing{"target": {v, hour}}, "after indexed writes under a canceled context")
	s.wantIndexEmpty(t, ix, "bob", "after a ReplaceIndexed to it under a canceled context")
}

// testIndexInvalidKey: every index key outside [A-Za-z0-9_-]{1,128} (but
// "", which files under none) is refused with ErrInvalidID by
// CreateIndexed, ReplaceIndexed and ReadIndex, which create, move and read
// nothing; an invalid id is refused too, whatever the index key. An index
// key reaches paths, key names and queries as an id does.
func (s *suite) testIndexInvalidKey(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	v := value(1, 20)
	hour := later()
	mustCreateIndexed(t, ix, "target", "ann", hour, v)
	mustCreateIndexed(t, ix, "x", "x", hour, v)
	for _, c := range invalidIDs {
		if c.id == "" {
			continue
		}
		want := func(call string, err error) {
			t.Helper()
			if !errors.Is(err, sessions.ErrInvalidID) {
				t.Errorf("%s with the invalid index key %s (%s) returned %v, want an error wrapping sessions.ErrInvalidID", call, describeID(c.id), c.name, err)
			}
		}
		want("CreateIndexed", createIndexed(t, ix, "fresh", c.id, hour, value(2, 20)))
		want("ReplaceIndexed", replaceIndexed(t, ix, "target", c.id, hour, value(2, 20)))
		called := false
		want("ReadIndex", ix.ReadIndex(t.Context(), c.id, func(string, time.Time, io.Reader) error { called = true; return nil }))
		if called {
			t.Errorf("ReadIndex with the invalid index key %s (%s) called the read func, want it rejected before any lookup", describeID(c.id), c.name)
		}
	}
	for _, id := range []string{"../x", "a/b", "*"} {
		if err := createIndexed(t, ix, id, "ann", hour, value(3, 20)); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("CreateIndexed of the invalid id %q under a valid index key returned %v, want an error wrapping sessions.ErrInvalidID", id, err)
		}
		if err := replaceIndexed(t, ix, id, "ann", hour, value(3, 20)); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("ReplaceIndexed of the invalid id %q under a valid index key returned %v, want an error wrapping sessions.ErrInvalidID", id, err)
		}
	}
	wantContent(t, st, "target", v, "Read after indexed writes with invalid index keys")
	wantNotFound(t, st, "fresh", "Read after CreateIndexed calls with invalid index keys")
	s.wantIndex(t, ix, "ann", map[string]filing{"target": {v, hour}}, "after indexed writes with invalid index keys and ids")
	s.wantIndex(t, ix, "x", map[string]filing{"x": {v, hour}}, `after indexed writes with the index keys "../x" and "%2e%2e"`)
	wantListed(t, st, []string{"target", "x"}, "after indexed writes with invalid index keys and ids")
}

// testIndexClosed: after Close, CreateIndexed, ReplaceIndexed and ReadIndex
// return an error wrapping ErrClosed, and ReadIndex calls nothing.
func (s *suite) testIndexClosed(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	c := closer(t, st)
	mustCreateIndexed(t, ix, "known", "ann", later(), value(1, 20))
	if err := c.Close(); err != nil {
		t.Fatalf("Close returned %v, want nil", err)
	}
	want := func(call string, err error) {
		t.Helper()
		if !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("%s after Close returned %v, want an error wrapping sessions.ErrClosed", call, err)
		}
	}
	for _, id := range []string{"known", "unknown"} {
		want(fmt.Sprintf("CreateIndexed of %q", id), createIndexed(t, ix, id, "ann", later(), value(2, 20)))
		want(fmt.Sprintf("ReplaceIndexed of %q", id), replaceIndexed(t, ix, id, "bob", later(), value(2, 20)))
	}
	for _, index := range []string{"ann", "bob"} {
		called := false
		want(fmt.Sprintf("ReadIndex of %q", index), ix.ReadIndex(t.Context(), index, func(string, time.Time, io.Reader) error { called = true; return nil }))
		if called {
			t.Errorf("ReadIndex of %q after Close called the read func, want ErrClosed without it", index)
		}
	}
}

const (
	// indexWorkers write concurrently to one index key, indexIDs ids each.
	indexWorkers = 8
	indexIDs     = 12
	// stableIDs are filed before the workers start and never touched: every
	// ReadIndex during the churn must yield them.
	stableIDs = 5
)

// testIndexConcurrentFilings: concurrent CreateIndexed, ReplaceIndexed and
// Invalidate calls on different ids of one index key, with ReadIndex calls
// running meanwhile (which may clean up filings), end with the index
// listing exactly what the calls left live, each with its last content:
// no filing is lost to a read-modify-write of a shared filing set, and no
// ended or moved entry stays. Every ReadIndex during the churn yields the
// entries that stayed live and filed all along (it never misses a live
// one).
func (s *suite) testIndexConcurrentFilings(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	hour := later()
	want := map[string]map[string]filing{"ann": {}, "bob": {}}
	for i := range stableIDs {
		id := fmt.Sprintf("stable-%d", i)
		mustCreateIndexed(t, ix, id, "ann", hour, value(100+i, 30))
		want["ann"][id] = filing{value(100+i, 30), hour}
	}
	stable := maps.Clone(want["ann"])
	// Each id belongs to one worker, so what it ends as is known: filed
	// under "ann", rewritten there, invalidated, or moved to "bob".
	for w := range indexWorkers {
		for j := range indexIDs {
			id := fmt.Sprintf("w%d-%02d", w, j)
			switch j % 4 {
			case 0:
				want["ann"][id] = filing{value(w*100+j, 40), hour}
			case 1:
				want["ann"][id] = filing{value(w*100+j+1, 40), hour}
			case 3:
				want["bob"][id] = filing{value(w*100+j+1, 40), hour}
			}
		}
	}
	var (
		writers, reader sync.WaitGroup
		done            atomic.Bool
		reported        atomic.Int64
		reads           atomic.Int64
	)
	report := func(format string, args ...any) {
		if reported.Add(1) <= 3 {
			t.Errorf(format, args...)
		}
	}
	spawn(&reader, func() {
		for first := true; first || !done.Load(); first = false {
			reads.Add(1)
			got, err := readIndex(t.Context(), ix, "ann")
			if err != nil {
				report("ReadIndex concurrent with indexed writes returned %v, want nil", err)
				return
			}
			seen := make(map[string][]byte, len(got))
			for _, g := range got {
				seen[g.id] = g.data
			}
			for id, f := range stable {
				data, ok := seen[id]
				switch {
				case !ok:
					report("ReadIndex concurrent with indexed writes of other ids left out %q, live and filed under it all along; want every such entry yielded", id)
				case !bytes.Equal(data, f.data):
					report("ReadIndex concurrent with indexed writes of other ids yielded %q with %s, want its %d bytes", id, diff(data, f.data), len(f.data))
				}
			}
		}
	})
	for w := range indexWorkers {
		spawn(&writers, func() {
			for j := range indexIDs {
				id := fmt.Sprintf("w%d-%02d", w, j)
				if err := createIndexed(t, ix, id, "ann", hour, value(w*100+j, 40)); err != nil {
					report("CreateIndexed of a new id concurrent with other indexed writes returned %v, want nil", err)
					return
				}
				var err error
				switch j % 4 {
				case 1:
					err = replaceIndexed(t, ix, id, "ann", hour, value(w*100+j+1, 40))
				case 2:
					err = st.Invalidate(t.Context(), id)
				case 3:
					err = replaceIndexed(t, ix, id, "bob", hour, value(w*100+j+1, 40))
				}
				if err != nil {
					report("an indexed write of a live id concurrent with other indexed writes returned %v, want nil", err)
					return
				}
			}
		})
	}
	writers.Wait()
	done.Store(true)
	reader.Wait()
	if t.Failed() {
		return
	}
	what := fmt.Sprintf("after %d concurrent workers filed %d ids each (rewriting, invalidating or moving some) while ReadIndex ran %d times", indexWorkers, indexIDs, reads.Load())
	s.wantIndex(t, ix, "ann", want["ann"], what)
	s.wantIndex(t, ix, "bob", want["bob"], what)
}

// moveRounds is how many times testIndexConcurrentMoves races its moves.
const moveRounds = 20

// testIndexConcurrentMoves: concurrent ReplaceIndexed calls that move one
// id between two index keys end with the id listed under exactly one of
// them, the one the last write named: the content Read returns is that of
// a write filed under the key that lists it. In half of the rounds each
// write func waits for the others to reach theirs, so that a storage that
// files in a step apart from the write mixes them up.
func (s *suite) testIndexConcurrentMoves(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	keys := [2]string{"ann", "bob"}
	p := newPayloads(creators)
	for round := range moveRounds {
		id := fmt.Sprintf("mover-%02d", round)
		mustCreateIndexed(t, ix, id, "ann", later(), value(round, 30))
		start := make(chan struct{})
		inside := newBarrier(creators)
		var wg sync.WaitGroup
		errs := make([]error, creators)
		for k := range creators {
			spawn(&wg, func() {
				<-start
				errs[k] = ix.ReplaceIndexed(t.Context(), id, keys[k%2], later(), func(w io.Writer) error {
					if round%2 == 0 {
						inside.arrive(rendezvous)
					}
					return writeChunks(p[k], payloadChunk)(w)
				})
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: ReplaceIndexed of a live id concurrent with %d others moving it returned %v, want nil", round+1, creators-1, err)
		}
		got, err := get(t, t.Context(), st, id)
		if err != nil {
			t.Fatalf("round %d: Read after concurrent moves returned %v, want the last write's value", round+1, err)
		}
		k, what := p.which(got)
		if k < 0 {
			t.Fatalf("round %d: Read after concurrent moves returned %s, want one whole value", round+1, what)
		}
		var under []string
		for _, index := range keys {
			listed, err := readIndex(t.Context(), ix, index)
			if err != nil {
				t.Fatalf("round %d: ReadIndex of %q after concurrent moves returned %v, want nil", round+1, index, err)
			}
			for _, l := range listed {
				if l.id != id {
					continue
				}
				under = append(under, index)
				if !bytes.Equal(l.data, got) {
					t.Fatalf("round %d: ReadIndex of %q after concurrent moves yielded %s while Read returns the value of write %d; want the same version", round+1, index, diff(l.data, got), k)
				}
			}
		}
		switch {
		case len(under) != 1:
			t.Fatalf("round %d: after %d concurrent ReplaceIndexed calls moving one id between %q and %q, it is listed under %q; want exactly one index key, the last write's", round+1, creators, keys[0], keys[1], under)
		case under[0] != keys[k%2]:
			t.Fatalf("round %d: after concurrent moves, the id holds the value of write %d, which filed it under %q, but %q lists it; want the index key of the write that stored the value", round+1, k, keys[k%2], under[0])
		}
	}
}

// versionReads is how many ReadIndex calls testIndexOneVersion makes while
// the entry is rewritten.
const versionReads = 50

// testIndexOneVersion: what ReadIndex yields for an entry, its content and
// its expiry, comes from one version of it, while ReplaceIndexed rewrites
// the entry with other contents and expiries until versionReads ReadIndex
// calls are done; an entry next to it, which nobody writes, is yielded
// every time.
func (s *suite) testIndexOneVersion(t *testing.T) {
	st := s.newStorage(t)
	ix := indexer(t, st)
	const versions = 4
	p := newPayloads(versions)
	base := time.Now().Add(time.Hour).Truncate(time.Second)
	expiry := func(k int) time.Time { return base.Add(time.Duration(k) * time.Minute) }
	mustCreateIndexed(t, ix, "churned", "ann", expiry(0), p[0])
	vs := value(9, 30)
	mustCreateIndexed(t, ix, "still", "ann", later(), vs)
	tolerance := max(s.resolution, time.Millisecond)
	var (
		writers, reader sync.WaitGroup
		done            atomic.Bool
		reported        atomic.Int64
	)
	report := func(format string, args ...any) {
		if reported.Add(1) <= 3 {
			t.Errorf(format, args...)
		}
	}
	for k := range versions {
		spawn(&writers, func() {
			for first := true; first || !done.Load(); first = false {
				if err := ix.ReplaceIndexed(t.Context(), "churned", "ann", expiry(k), writeChunks(p[k], payloadChunk)); err != nil {
					report("ReplaceIndexed concurrent with ReadIndex returned %v, want nil", err)
					return
				}
			}
		})
	}
	spawn(&reader, func() {
		defer done.Store(true)
		for range versionReads {
			got, err := readIndex(t.Context(), ix, "ann")
			if err != nil {
				report("ReadIndex concurrent with ReplaceIndexed returned %v, want nil", err)
				return
			}
			still := false
			for _, g := range got {
				switch g.id {
				case "still":
					still = true
				case "churned":
					k, what := p.which(g.data)
					if k < 0 {
						report("ReadIndex concurrent with ReplaceIndexed of the entry yielded %s; want one whole written value", what)
						continue
					}
					if d := g.expires.Sub(expiry(k)); d > tolerance || -d > tolerance {
						report("ReadIndex concurrent with ReplaceIndexed yielded the content of write %d with the expiry %v, want that write's expiry %v: content and expiry must come from one version", k, g.expires, expiry(k))
					}
				}
			}
			if !still {
				report("ReadIndex concurrent with ReplaceIndexed of another entry left out an entry live and filed under it all along")
			}
		}
	})
	reader.Wait()
	writers.Wait()
}

// testIndexReopen: with WithReopen, filings survive a close: the entries
// filed, moved and rewritten before it are listed after it where they were,
// ended ones stay unlisted, and an entry filed before the reopen can be
// moved after it.
func (s *suite) testIndexReopen(t *testing.T) {
	s.needReopen(t)
	st := s.newStorage(t)
	ix := indexer(t, st)
	hour := later()
	va, vb, vm := value(1, 40), value(2, 0), value(3, 5000)
	mustCreateIndexed(t, ix, "a", "ann", hour, va)
	mustCreateIndexed(t, ix, "b", "ann", time.Time{}, vb)
	mustCreateIndexed(t, ix, "moved", "ann", hour, value(4, 40))
	mustReplaceIndexed(t, ix, "moved", "bob", hour, vm)
	mustCreateIndexed(t, ix, "removed", "ann", hour, va)
	if err := st.Invalidate(t.Context(), "removed"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	mustCreateIndexed(t, ix, "unfiled", "ann", hour, va)
	mustPut(t, st, "unfiled", hour, va)
	st = s.reopened(t, st)
	ix = indexer(t, st)
	s.wantIndex(t, ix, "ann", map[string]filing{"a": {va, hour}, "b": {vb, time.Time{}}}, "after reopening")
	s.wantIndex(t, ix, "bob", map[string]filing{"moved": {vm, hour}}, "after reopening, of an entry moved to it before")
	v := value(5, 40)
	mustReplaceIndexed(t, ix, "a", "bob", hour, v)
	s.wantIndex(t, ix, "ann", map[string]filing{"b": {vb, time.Time{}}}, "after reopening and moving an entry filed before the reopen to another index key")
	s.wantIndex(t, ix, "bob", map[string]filing{"moved": {vm, hour}, "a": {v, hour}}, "after reopening and moving an entry to it")
}
