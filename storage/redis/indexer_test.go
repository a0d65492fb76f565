package redis_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
)

// newClusterClient returns a Cluster client with f hooked in at the
// cluster level, which answers before any routing: no node is ever dialled.
func newClusterClient(t *testing.T, f *fakeServer) *goredis.ClusterClient {
	t.Helper()
	addr := closedPort(t)
	c := goredis.NewClusterClient(&goredis.ClusterOptions{
		ContextTimeoutEnabled: true,
		MaxRedirects:          -1,
		DialTimeout:           time.Second,
		ClusterSlots: func(context.Context) ([]goredis.ClusterSlot, error) {
			return []goredis.ClusterSlot{{Start: 0, End: 16383, Nodes: []goredis.ClusterNode{{Addr: addr}}}}, nil
		},
	})
	c.AddHook(f)
	t.Cleanup(func() { c.Close() })
	return c
}

// at is an expiry in 2100 with a sub-millisecond part, which Redis drops.
var at = time.UnixMilli(4102444800123).Add(456 * time.Microsecond)

const atMs = "4102444800123"

// filingOf is what files p:id1 under the index key ix, without ZCARD.
var filingOf = []string{
	"zadd p:idx:ix <stamp> id1",
	"pexpireat p:idx:ix " + atMs + " nx",
	"pexpireat p:idx:ix " + atMs + " gt",
}

func tx(cmds ...string) []string {
	return append(append([]string{"multi"}, cmds...), "exec")
}

// TestIndexedWritesAreOneTransactionOnOneServer: on a single server the
// SET and its filing travel in one MULTI/EXEC, one round trip, for both
// conditions, and with the frame of the index key in front of the content.
func TestIndexedWritesAreOneTransactionOnOneServer(t *testing.T) {
	cases := []struct {
		name string
		call func(ctx context.Context, s *redis.Store) error
		set  string
	}{
		{"CreateIndexed", func(ctx context.Context, s *redis.Store) error {
			return s.CreateIndexed(ctx, "id1", "ix", at, writeString("value"))
		}, "set p:id1 \x02ixvalue nx pxat " + atMs},
		{"ReplaceIndexed", func(ctx context.Context, s *redis.Store) error {
			return s.ReplaceIndexed(ctx, "id1", "ix", at, writeString("value"))
		}, "set p:id1 \x02ixvalue xx pxat " + atMs},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{answer: answerOK}
			s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"))
			if err := tc.call(t.Context(), s); err != nil {
				t.Fatalf("call = %v", err)
			}
			want := tx(append(append([]string{tc.set}, filingOf...), "zcard p:idx:ix")...)
			if sent := f.sent(); !slices.Equal(sent, want) || f.roundTrips() != 1 {
				t.Errorf("sent %q in %d round trips,\nwant %q in one", sent, f.roundTrips(), want)
			}
		})
	}
}

// TestIndexedWriteWithoutExpiryGivesTheSetTheFarExpiry: a set is never made
// persistent (PEXPIREAT NX would then shorten it), so an entry without
// expiry gives its set the year 9999.
func TestIndexedWriteWithoutExpiryGivesTheSetTheFarExpiry(t *testing.T) {
	f := &fakeServer{answer: answerOK}
	s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"))
	if err := s.CreateIndexed(t.Context(), "id1", "ix", time.Time{}, writeString("v")); err != nil {
		t.Fatal(err)
	}
	want := tx("set p:id1 \x02ixv nx", "zadd p:idx:ix <stamp> id1",
		"pexpireat p:idx:ix 253402300799999 nx", "pexpireat p:idx:ix 253402300799999 gt", "zcard p:idx:ix")
	if sent := f.sent(); !slices.Equal(sent, want) {
		t.Errorf("sent %q, want %q", sent, want)
	}
}

// answerSet plays a server whose SET answers nil (its condition failed)
// when fail is true, and OK otherwise.
func answerSet(fail bool) func(goredis.Cmder) error {
	return func(cmd goredis.Cmder) error {
		if fail && cmd.Name() == "set" {
			cmd.SetErr(goredis.Nil)
			return goredis.Nil
		}
		return answerOK(cmd)
	}
}

// TestIndexedWritesOnAClusterFileBeforeAndAfterTheSet: where the entry and
// the set are in different slots, the filing goes first (so a write that
// fails later leaves a stale member at worst, never an unfiled entry), then
// the SET, then the filing again with a fresh stamp (so that a ReadIndex
// that judged the first one stale cannot remove it). A SET whose condition
// fails is not filed again.
func TestIndexedWritesOnAClusterFileBeforeAndAfterTheSet(t *testing.T) {
	cases := []struct {
		name  string
		fail  bool
		call  func(ctx context.Context, s *redis.Store) error
		err   error
		trips []string
	}{
		{"CreateIndexed", false, func(ctx context.Context, s *redis.Store) error {
			return s.CreateIndexed(ctx, "id1", "ix", at, writeString("v"))
		}, nil, nil},
		{"ReplaceIndexed", false, func(ctx context.Context, s *redis.Store) error {
			return s.ReplaceIndexed(ctx, "id1", "ix", at, writeString("v"))
		}, nil, nil},
		{"CreateIndexedLive", true, func(ctx context.Context, s *redis.Store) error {
			return s.CreateIndexed(ctx, "id1", "ix", at, writeString("v"))
		}, sessions.ErrExists, nil},
		{"ReplaceIndexedMissing", true, func(ctx context.Context, s *redis.Store) error {
			return s.ReplaceIndexed(ctx, "id1", "ix", at, writeString("v"))
		}, sessions.ErrNotFound, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{answer: answerSet(tc.fail)}
			s := mustNew(t, newClusterClient(t, f), redis.WithPrefix("p:"))
			err := tc.call(t.Context(), s)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("call = %v, want %v", err, tc.err)
			}
			cond := "nx"
			if strings.HasPrefix(tc.name, "Replace") {
				cond = "xx"
			}
			want := tx(append(slices.Clone(filingOf), "zcard p:idx:ix")...)
			want = append(want, "set p:id1 \x02ixv "+cond+" pxat "+atMs)
			trips := 2
			if !tc.fail {
				want = append(want, tx(filingOf...)...)
				trips = 3
			}
			if sent := f.sent(); !slices.Equal(sent, want) || f.roundTrips() != trips {
				t.Errorf("sent %q in %d round trips,\nwant %q in %d", sent, f.roundTrips(), want, trips)
			}
		})
	}
}

// touchAnswers plays a server whose touch script answers replies in turn,
// and accepts everything else.
func touchAnswers(replies ...any) func(goredis.Cmder) error {
	return func(cmd goredis.Cmder) error {
		if c, ok := cmd.(*goredis.Cmd); ok && strings.HasPrefix(cmd.Name(), "eval") {
			c.SetVal(replies[0])
			replies = replies[1:]
			return nil
		}
		return answerOK(cmd)
	}
}

// TestTouchOfAnIndexedEntryExtendsItsSetFirst: the script names the index
// key of an indexed entry instead of moving its expiry; Touch then moves
// the set's expiry and re-files the entry, and asks the script again. On a
// single server that second step is one MULTI/EXEC; on a Cluster the set
// goes first, then the entry.
func TestTouchOfAnIndexedEntryExtendsItsSetFirst(t *testing.T) {
	ask := func(expect string) string { return "<script> 1 p:id1 at " + atMs + " " + expect }
	cases := []struct {
		name    string
		cluster bool
		replies []any
		want    []string
		trips   int
	}{
		{"UnindexedOneServer", false, []any{int64(1)}, []string{"evalsha " + ask("")}, 1},
		{"IndexedOneServer", false, []any{"ix", int64(1)},
			append([]string{"evalsha " + ask("")}, tx(append(slices.Clone(filingOf), "eval "+ask("ix"))...)...), 2},
		{"IndexedCluster", true, []any{"ix", int64(1)},
			append(append([]string{"evalsha " + ask("")}, tx(filingOf...)...), "evalsha "+ask("ix")), 3},
		// Moved to another index key between the two asks: followed.
		{"MovedOneServer", false, []any{"ix", "iy", int64(1)},
			append(append([]string{"evalsha " + ask("")}, tx(append(slices.Clone(filingOf), "eval "+ask("ix"))...)...),
				tx("zadd p:idx:iy <stamp> id1", "pexpireat p:idx:iy "+atMs+" nx", "pexpireat p:idx:iy "+atMs+" gt", "eval "+ask("iy"))...), 3},
		// Moved out of every index key: the plain ask follows.
		{"UnfiledMeanwhileCluster", true, []any{"ix", "", int64(1)},
			append(append([]string{"evalsha " + ask("")}, tx(filingOf...)...), "evalsha "+ask("ix"), "evalsha "+ask("")), 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{answer: touchAnswers(tc.replies...)}
			var client goredis.UniversalClient = newClient(t, f)
			if tc.cluster {
				client = newClusterClient(t, f)
			}
			s := mustNew(t, client, redis.WithPrefix("p:"))
			if err := s.Touch(t.Context(), "id1", at); err != nil {
				t.Fatalf("Touch = %v", err)
			}
			if sent := f.sent(); !slices.Equal(sent, tc.want) || f.roundTrips() != tc.trips {
				t.Errorf("sent %q in %d round trips,\nwant %q in %d", sent, f.roundTrips(), tc.want, tc.trips)
			}
		})
	}
}

func TestTouchGivesUpOnAnEntryThatNeverStopsMoving(t *testing.T) {
	replies := []any{}
	for i := range 20 {
		replies = append(replies, string(rune('a'+i)))
	}
	f := &fakeServer{answer: touchAnswers(replies...)}
	s := mustNew(t, newClient(t, f))
	err := s.Touch(t.Context(), "id1", at)
	if err == nil || errors.Is(err, sessions.ErrNotFound) || !strings.HasPrefix(err.Error(), "sessionkit/redis: ") {
		t.Errorf("Touch of an entry moving on every ask = %v, want an error of the package", err)
	}
	if n := f.roundTrips(); n > 10 {
		t.Errorf("Touch made %d round trips before giving up, want a few", n)
	}
}

// indexServer plays a server holding the set p:idx:ix with the given
// members (id -> stamp) and entries (id -> stored value), none of which
// expires. It records what the cleaning script is asked to remove.
type indexServer struct {
	members  []goredis.Z
	entries  map[string]string
	noScript bool // EVALSHA_RO answers NOSCRIPT, as after a SCRIPT FLUSH

	unfiled []string
}

func (x *indexServer) answer(cmd goredis.Cmder) error {
	switch c := cmd.(type) {
	case *goredis.ZSliceCmd:
		c.SetVal(x.members)
	case *goredis.Cmd:
		args := cmd.Args()
		switch cmd.Name() {
		case "evalsha_ro", "eval_ro":
			if x.noScript && cmd.Name() == "evalsha_ro" {
				err := goredis.ErrNoScript
				c.SetErr(err)
				return err
			}
			v, ok := x.entries[strings.TrimPrefix(args[3].(string), "p:")]
			if !ok {
				c.SetErr(goredis.Nil)
				return goredis.Nil
			}
			c.SetVal([]any{v, int64(-1)})
		case "evalsha":
			for _, a := range args[4:] {
				x.unfiled = append(x.unfiled, a.(string))
			}
			c.SetVal(int64(len(args[4:]) / 2))
		}
	}
	return nil
}

// TestReadIndexYieldsLiveEntriesOfItsKeyAndUnfilesTheRest: the members are
// judged by their entries: live and recording the index key is yielded
// with the frame stripped; absent, filed under another key or under none,
// or not in the Store's format is stale, and the cleaning removes each
// with the stamp it was read with.
func TestReadIndexYieldsLiveEntriesOfItsKeyAndUnfilesTheRest(t *testing.T) {
	x := &indexServer{
		members: []goredis.Z{
			{Member: "live", Score: 1}, {Member: "gone", Score: 2}, {Member: "moved", Score: 3},
			{Member: "unfiled", Score: 4}, {Member: "foreign", Score: 5}, {Member: "bad/id", Score: 6},
			{Member: "live2", Score: 9007199254740991},
		},
		entries: map[string]string{
			"live":    "\x02ixcontent",
			"moved":   "\x02iyother",
			"unfiled": "\x00plain",
			"foreign": "not a frame",
			"live2":   "\x02ix",
		},
	}
	f := &fakeServer{answer: x.answer}
	s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"))
	got := map[string]string{}
	err := s.ReadIndex(t.Context(), "ix", func(id string, exp time.Time, r io.Reader) error {
		b, err := io.ReadAll(r)
		got[id] = string(b)
		if !exp.IsZero() {
			t.Errorf("ReadIndex yielded %v as the expiry of an entry without one", exp)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"live": "content", "live2": ""}; !mapsEqual(got, want) {
		t.Errorf("ReadIndex yielded %q, want %q", got, want)
	}
	slices.Sort(x.unfiled)
	want := []string{"2", "3", "4", "5", "6", "bad/id", "foreign", "gone", "moved", "unfiled"}
	if !slices.Equal(x.unfiled, want) {
		t.Errorf("the cleaning was asked to remove %q (members and stamps), want %q", x.unfiled, want)
	}
	if n := f.roundTrips(); n != 3 {
		t.Errorf("ReadIndex with stale members took %d round trips, want 3 (ZRANGE, the reads, the cleaning)", n)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestReadIndexOfCleanMembersIsTwoRoundTrips(t *testing.T) {
	x := &indexServer{
		members: []goredis.Z{{Member: "a", Score: 1}, {Member: "b", Score: 2}},
		entries: map[string]string{"a": "\x02ix1", "b": "\x02ix2"},
	}
	f := &fakeServer{answer: x.answer}
	s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"))
	n := 0
	if err := s.ReadIndex(t.Context(), "ix", func(string, time.Time, io.Reader) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{"zrange p:idx:ix 0 -1 withscores", "evalsha_ro <script> 1 p:a", "evalsha_ro <script> 1 p:b"}
	if sent := f.sent(); n != 2 || !slices.Equal(sent, want) || f.roundTrips() != 2 {
		t.Errorf("ReadIndex yielded %d and sent %q in %d round trips, want 2 and %q in two", n, sent, f.roundTrips(), want)
	}
}

// TestReadIndexRecoversFromALostScriptCache: after a restart, a failover
// or SCRIPT FLUSH the server answers NOSCRIPT; the reads are sent again
// with EVAL_RO.
func TestReadIndexRecoversFromALostScriptCache(t *testing.T) {
	x := &indexServer{
		members:  []goredis.Z{{Member: "a", Score: 1}},
		entries:  map[string]string{"a": "\x02ix1"},
		noScript: true,
	}
	f := &fakeServer{answer: x.answer}
	s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"))
	var ids []string
	if err := s.ReadIndex(t.Context(), "ix", func(id string, _ time.Time, _ io.Reader) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"a"}) {
		t.Errorf("ReadIndex after a lost script cache yielded %q, want [a]", ids)
	}
	if sent := f.sent(); !slices.Contains(sent, "eval_ro <script> 1 p:a") {
		t.Errorf("sent %q, want an EVAL_RO after the NOSCRIPT", sent)
	}
}

func TestReadIndexReturnsTheReadersError(t *testing.T) {
	x := &indexServer{
		members: []goredis.Z{{Member: "a", Score: 1}, {Member: "b", Score: 2}},
		entries: map[string]string{"a": "\x02ix1", "b": "\x02ix2"},
	}
	s := mustNew(t, newClient(t, &fakeServer{answer: x.answer}), redis.WithPrefix("p:"))
	boom := errors.New("boom")
	calls := 0
	err := s.ReadIndex(t.Context(), "ix", func(string, time.Time, io.Reader) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("ReadIndex with a failing read = %v after %d calls, want boom after one", err, calls)
	}
}

func TestInvalidIndexKeysAreRefusedBeforeAnyDial(t *testing.T) {
	bad := []string{"../x", "a/b", "a:b", "a b", "é", strings.Repeat("a", sessions.MaxIDLength+1), "{tag}"}
	f := &fakeServer{}
	s := mustNew(t, newClient(t, f))
	ctx := t.Context()
	for _, index := range bad {
		for name, err := range map[string]error{
			"CreateIndexed":  s.CreateIndexed(ctx, "id", index, at, writeString("v")),
			"ReplaceIndexed": s.ReplaceIndexed(ctx, "id", index, at, writeString("v")),
			"ReadIndex":      s.ReadIndex(ctx, index, func(string, time.Time, io.Reader) error { return nil }),
		} {
			if !errors.Is(err, sessions.ErrInvalidID) {
				t.Errorf("%s with index key %q = %v, want an error wrapping ErrInvalidID", name, index, err)
			}
			if err != nil && len(index) >= 3 && strings.Contains(err.Error(), index) {
				t.Errorf("%s(%q): the error %q repeats the index key", name, index, err)
			}
		}
	}
	// The empty index key files under none, but lists nothing.
	if err := s.ReadIndex(ctx, "", func(string, time.Time, io.Reader) error { return nil }); !errors.Is(err, sessions.ErrInvalidID) {
		t.Errorf("ReadIndex of the empty index key = %v, want an error wrapping ErrInvalidID", err)
	}
	if n := f.dialCount(); n != 0 || len(f.sent()) != 0 {
		t.Errorf("invalid index keys caused %d dials and sent %q, want nothing", n, f.sent())
	}
}

// TestAWriteThatGrowsTheSetToAPowerOfTwoCleansIt: the set of an index key
// that nothing lists is kept in proportion by the writes themselves: one
// that adds a member and leaves 64, 128, ... members cleans the set, and
// no other does.
func TestAWriteThatGrowsTheSetToAPowerOfTwoCleansIt(t *testing.T) {
	cases := []struct {
		added, card int64
		cleans      bool
	}{
		{1, 64, true},
		{1, 128, true},
		{1, 63, false},
		{1, 65, false},
		{1, 32, false},
		{0, 64, false}, // re-filed, not added
	}
	for _, tc := range cases {
		f := &fakeServer{answer: func(cmd goredis.Cmder) error {
			switch cmd.Name() {
			case "zadd":
				cmd.(*goredis.IntCmd).SetVal(tc.added)
				return nil
			case "zcard":
				cmd.(*goredis.IntCmd).SetVal(tc.card)
				return nil
			case "zrange":
				cmd.(*goredis.ZSliceCmd).SetVal([]goredis.Z{{Member: "old", Score: 7}, {Member: "id1", Score: 8}})
				return nil
			case "getrange":
				if cmd.Args()[1] == "p:id1" {
					cmd.(*goredis.StringCmd).SetVal("\x02ixv")
				} else {
					cmd.(*goredis.StringCmd).SetVal("") // absent
				}
				return nil
			}
			return answerOK(cmd)
		}}
		s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"))
		if err := s.CreateIndexed(t.Context(), "id1", "ix", at, writeString("v")); err != nil {
			t.Fatal(err)
		}
		sent := f.sent()
		cleaned := slices.Contains(sent, "evalsha <script> 1 p:idx:ix old 7")
		if cleaned != tc.cleans {
			t.Errorf("a write adding %d member(s) to a set of %d: cleaned %v, want %v; sent %q", tc.added, tc.card, cleaned, tc.cleans, sent)
		}
	}
}
