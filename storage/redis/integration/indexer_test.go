package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// The Indexer rules of the Store, checked against a real server and a real
// Cluster. The tests read the layout the package documents: the set of an
// index key is prefix + "idx:" + index key, its members are ids.

// deployment is a kind of Redis the rules run on.
type deployment struct {
	name   string
	client func(t *testing.T) goredis.UniversalClient
}

var deployments = []deployment{
	{"Server", func(t *testing.T) goredis.UniversalClient { return newClient(t, containers.Redis(t)) }},
	{"Cluster", func(t *testing.T) goredis.UniversalClient {
		return newClusterClient(t, containers.RedisCluster(t))
	}},
}

// ixEnv is what a rule gets: a Store under a prefix of its own, and the
// client it runs on, with a hook the rule may arm.
type ixEnv struct {
	client goredis.UniversalClient
	s      *redis.Store
	prefix string
	hook   *armedHook
}

func (e *ixEnv) setKey(index string) string { return e.prefix + "idx:" + index }

// members returns the ids in the set of index, sorted.
func (e *ixEnv) members(t *testing.T, index string) []string {
	t.Helper()
	m, err := e.client.ZRange(context.Background(), e.setKey(index), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// expiryOf returns PEXPIRETIME of key: -2 absent, -1 none.
func (e *ixEnv) expiryOf(t *testing.T, key string) int64 {
	t.Helper()
	ms, err := e.client.Do(context.Background(), "pexpiretime", key).Int64()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// armedHook runs a function once, just before the first command or pipeline
// that matches, then lets it through. Commands the function sends pass
// through the hook disarmed.
type armedHook struct {
	mu    sync.Mutex
	match func(cmds []goredis.Cmder) bool
	run   func()
	fail  error // returned instead of sending, when set
}

func (h *armedHook) arm(match func([]goredis.Cmder) bool, run func(), fail error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.match, h.run, h.fail = match, run, fail
}

// fire reports whether cmds match, disarming the hook, and what to do.
func (h *armedHook) fire(cmds []goredis.Cmder) (func(), error, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.match == nil || !h.match(cmds) {
		return nil, nil, false
	}
	run, fail := h.run, h.fail
	h.match, h.run, h.fail = nil, nil, nil
	return run, fail, true
}

func (h *armedHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *armedHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if run, fail, ok := h.fire([]goredis.Cmder{cmd}); ok {
			if run != nil {
				run()
			}
			if fail != nil {
				return fail
			}
		}
		return next(ctx, cmd)
	}
}

func (h *armedHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if run, fail, ok := h.fire(cmds); ok {
			if run != nil {
				run()
			}
			if fail != nil {
				for _, c := range cmds {
					c.SetErr(fail)
				}
				return fail
			}
		}
		return next(ctx, cmds)
	}
}

// sends reports whether cmds hold a command named name whose arguments
// include arg.
func sends(cmds []goredis.Cmder, name, arg string) bool {
	for _, c := range cmds {
		if strings.ToLower(c.Name()) != name {
			continue
		}
		for _, a := range c.Args() {
			if s, ok := a.(string); ok && s == arg {
				return true
			}
		}
	}
	return false
}

type ixEntry struct {
	content string
	expires time.Time
}

// readIndex collects what ReadIndex yields.
func readIndex(t *testing.T, s *redis.Store, index string) map[string]ixEntry {
	t.Helper()
	got := map[string]ixEntry{}
	err := s.ReadIndex(context.Background(), index, func(id string, exp time.Time, r io.Reader) error {
		b, err := io.ReadAll(r)
		if _, dup := got[id]; dup {
			t.Errorf("ReadIndex(%q) yielded %q twice", index, id)
		}
		got[id] = ixEntry{string(b), exp}
		return err
	})
	if err != nil {
		t.Fatalf("ReadIndex(%q) = %v", index, err)
	}
	return got
}

func ids(m map[string]ixEntry) []string {
	return slices.Sorted(maps.Keys(m))
}

// waitPast blocks until the server's clock has passed ms, so that every
// key that expires at ms or before is gone. The hang detector fails t if
// the clock does not get there in 30 s.
func waitPast(t *testing.T, client goredis.UniversalClient, ms int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		now, err := client.Time(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		if now.UnixMilli() > ms {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server's clock did not pass %d within 30 s", ms)
		}
		time.Sleep(time.Duration(ms-now.UnixMilli()+1) * time.Millisecond)
	}
}

type ixRule struct {
	name string
	f    func(t *testing.T, e *ixEnv)
	// clusterOnly marks a rule about the order of the three round trips
	// a Cluster takes.
	clusterOnly bool
}

var ixRules = []ixRule{
	{"ReadIndexYieldsTheLiveEntriesOfItsKeyOnly", testYieldsItsOwn, false},
	{"PrincipalChangeMovesTheEntry_Spring343", testPrincipalChange, false},
	{"IDChangeLeavesNoStaleID_Spring1972", testIDChange, false},
	{"ExpiredEntriesAreNotListed_Spring2614", testExpired, false},
	{"PlainWritesAndInvalidateUnfile", testPlainWritesUnfile, false},
	{"FailedConditionalWritesChangeNoListing", testFailedConditional, false},
	{"TouchKeepsTheFilingPastTheSetsExpiry", testTouchKeepsFiling, false},
	{"TouchWithoutExpiryMakesTheSetOutliveIt", testTouchPersist, false},
	{"TheSetExpiresWithItsLastEntry", testSetExpiry, false},
	{"ReadIndexReleasesStaleMembers", testReleases, false},
	{"WritesKeepAnUnlistedSetInProportion", testCompaction, false},
	{"CleaningKeepsAMemberReFiledAfterItWasRead", testCleaningKeepsRefiled, false},
	{"ContentAndExpiryComeFromOneVersion", testOneVersion, false},
	{"ListSkipsTheSets", testListSkipsSets, false},
	{"ReadIndexAndTouchSurviveAScriptFlush", testScriptFlush, false},
	{"ACleaningBetweenTheFilingAndTheSetCannotUnfileTheWrite", testClusterRefile, true},
	{"ACrashAfterTheSetLeavesTheEntryFiled", testClusterFileFirst, true},
}

func TestIndexerRules(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			client := d.client(t)
			forbidKeysAndFlush(t, client)
			hook := &armedHook{}
			client.AddHook(hook)
			for _, r := range ixRules {
				if r.clusterOnly && d.name != "Cluster" {
					continue
				}
				t.Run(r.name, func(t *testing.T) {
					prefix := uniquePrefix()
					t.Cleanup(func() { deleteKeys(t, client, prefix) })
					// The rules that arm the hook share it: they do not run
					// in parallel with each other.
					r.f(t, &ixEnv{client: client, s: mustNew(t, client, redis.WithPrefix(prefix)), prefix: prefix, hook: hook})
				})
			}
		})
	}
}

func hourFromNow() time.Time { return time.Now().Add(time.Hour).Truncate(time.Millisecond) }

func mustCreate(t *testing.T, s *redis.Store, id, index string, exp time.Time, content string) {
	t.Helper()
	if err := s.CreateIndexed(context.Background(), id, index, exp, writeString(content)); err != nil {
		t.Fatalf("CreateIndexed(%q, %q) = %v", id, index, err)
	}
}

func mustReplace(t *testing.T, s *redis.Store, id, index string, exp time.Time, content string) {
	t.Helper()
	if err := s.ReplaceIndexed(context.Background(), id, index, exp, writeString(content)); err != nil {
		t.Fatalf("ReplaceIndexed(%q, %q) = %v", id, index, err)
	}
}

func testYieldsItsOwn(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	exp := hourFromNow()
	mustCreate(t, e.s, "a1", "alice", exp, "content a1")
	mustCreate(t, e.s, "a2", "alice", time.Time{}, "content a2")
	mustCreate(t, e.s, "b1", "bob", exp, "content b1")
	if err := e.s.Create(ctx, "plain", exp, writeString("p")); err != nil {
		t.Fatal(err)
	}
	// A store under another prefix, with the same index key and ids.
	other := mustNew(t, e.client, redis.WithPrefix(e.prefix+"other:"))
	mustCreate(t, other, "a3", "alice", exp, "other a3")

	got := readIndex(t, e.s, "alice")
	want := map[string]ixEntry{"a1": {"content a1", exp}, "a2": {"content a2", time.Time{}}}
	if len(got) != len(want) {
		t.Fatalf("ReadIndex(alice) yielded %q, want %q", ids(got), ids(want))
	}
	for id, w := range want {
		if g := got[id]; g.content != w.content || !g.expires.Equal(w.expires) {
			t.Errorf("ReadIndex(alice) yielded %q as (%q, %v), want (%q, %v)", id, g.content, g.expires, w.content, w.expires)
		}
	}
	if got := ids(readIndex(t, e.s, "bob")); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("ReadIndex(bob) = %q, want [b1]", got)
	}
	if got := ids(readIndex(t, e.s, "nobody")); len(got) != 0 {
		t.Errorf("ReadIndex of an index key never written = %q, want nothing", got)
	}
	// Read and ReadWithExpiry see the content without the frame.
	if v, err := readString(ctx, e.s, "a1"); err != nil || v != "content a1" {
		t.Errorf("Read of an indexed entry = %q, %v; want the content alone", v, err)
	}
	if err := e.s.ReadWithExpiry(ctx, "a1", func(r io.Reader, got time.Time) error {
		b, _ := io.ReadAll(r)
		if string(b) != "content a1" || !got.Equal(exp) {
			t.Errorf("ReadWithExpiry of an indexed entry = %q, %v; want %q, %v", b, got, "content a1", exp)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// testPrincipalChange: Spring Session #343 left a session under its old
// principal after a change. ReplaceIndexed to another index key moves it.
func testPrincipalChange(t *testing.T, e *ixEnv) {
	exp := hourFromNow()
	mustCreate(t, e.s, "s1", "alice", exp, "as alice")
	mustReplace(t, e.s, "s1", "bob", exp, "as bob")
	if got := readIndex(t, e.s, "alice"); len(got) != 0 {
		t.Errorf("after the move to bob, ReadIndex(alice) = %q, want nothing", ids(got))
	}
	if got := readIndex(t, e.s, "bob"); got["s1"].content != "as bob" || len(got) != 1 {
		t.Errorf("after the move to bob, ReadIndex(bob) = %v, want s1 as bob", got)
	}
	// And back: the member left in alice's set must not hide it.
	mustReplace(t, e.s, "s1", "alice", exp, "alice again")
	if got := readIndex(t, e.s, "alice"); got["s1"].content != "alice again" || len(got) != 1 {
		t.Errorf("after the move back, ReadIndex(alice) = %v, want s1", got)
	}
	if got := readIndex(t, e.s, "bob"); len(got) != 0 {
		t.Errorf("after the move back, ReadIndex(bob) = %q, want nothing", ids(got))
	}
}

// testIDChange: Spring Session #1972/#1987 kept the old id listed after
// changeSessionId. The middleware's Renew creates the new id and ends the
// old one with Replace to a past expiry.
func testIDChange(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	exp := hourFromNow()
	mustCreate(t, e.s, "old", "alice", exp, "v")
	mustCreate(t, e.s, "new", "alice", exp, "v")
	if err := e.s.Replace(ctx, "old", time.Now().Add(-time.Second), writeString("v")); err != nil {
		t.Fatal(err)
	}
	if got := ids(readIndex(t, e.s, "alice")); !slices.Equal(got, []string{"new"}) {
		t.Errorf("after the id change, ReadIndex(alice) = %q, want [new]", got)
	}
	if got := e.members(t, "alice"); !slices.Equal(got, []string{"new"}) {
		t.Errorf("after ReadIndex, the set holds %q, want [new]: the old id's filing must be released", got)
	}
}

// testExpired: Spring Session #2614 listed expired sessions.
func testExpired(t *testing.T, e *ixEnv) {
	soon := time.Now().Add(300 * time.Millisecond)
	mustCreate(t, e.s, "short", "alice", soon, "v")
	mustCreate(t, e.s, "long", "alice", hourFromNow(), "v")
	waitPast(t, e.client, soon.UnixMilli())
	if got := ids(readIndex(t, e.s, "alice")); !slices.Equal(got, []string{"long"}) {
		t.Errorf("after one entry expired, ReadIndex(alice) = %q, want [long]", got)
	}
	if got := e.members(t, "alice"); !slices.Equal(got, []string{"long"}) {
		t.Errorf("after ReadIndex, the set holds %q, want [long]", got)
	}
}

func testPlainWritesUnfile(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	exp := hourFromNow()
	for _, id := range []string{"w", "r", "c", "i", "kept"} {
		mustCreate(t, e.s, id, "alice", exp, "v")
	}
	if err := e.s.Write(ctx, "w", exp, writeString("v")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Replace(ctx, "r", exp, writeString("v")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Invalidate(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Create(ctx, "c", exp, writeString("v")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Invalidate(ctx, "i"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.ReplaceIndexed(ctx, "kept", "", exp, writeString("v")); err != nil {
		t.Fatal(err)
	}
	if got := readIndex(t, e.s, "alice"); len(got) != 0 {
		t.Errorf("after Write, Replace, Create, Invalidate and ReplaceIndexed under none, ReadIndex(alice) = %q, want nothing", ids(got))
	}
	for _, id := range []string{"w", "r", "c", "kept"} {
		if _, err := readString(ctx, e.s, id); err != nil {
			t.Errorf("Read(%q) after its rewrite = %v", id, err)
		}
	}
}

func testFailedConditional(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	exp := hourFromNow()
	mustCreate(t, e.s, "live", "alice", exp, "first")
	if err := e.s.CreateIndexed(ctx, "live", "bob", exp, writeString("second")); !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("CreateIndexed of a live id = %v, want ErrExists", err)
	}
	if got := readIndex(t, e.s, "bob"); len(got) != 0 {
		t.Errorf("a failed CreateIndexed under bob listed %q there", ids(got))
	}
	if got := readIndex(t, e.s, "alice"); got["live"].content != "first" || len(got) != 1 {
		t.Errorf("after a failed CreateIndexed, ReadIndex(alice) = %v, want live with its first content", got)
	}
	if err := e.s.ReplaceIndexed(ctx, "missing", "alice", exp, writeString("x")); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("ReplaceIndexed of a missing id = %v, want ErrNotFound", err)
	}
	if got := ids(readIndex(t, e.s, "alice")); !slices.Equal(got, []string{"live"}) {
		t.Errorf("after a failed ReplaceIndexed, ReadIndex(alice) = %q, want [live]", got)
	}
	if n, err := e.client.Exists(ctx, e.prefix+"missing").Result(); err != nil || n != 0 {
		t.Errorf("a failed ReplaceIndexed left EXISTS = %d, %v; want 0", n, err)
	}
	// The stale members the MULTI may have made are gone after a ReadIndex.
	if got := e.members(t, "bob"); len(got) != 0 {
		t.Errorf("after ReadIndex(bob), bob's set holds %q, want nothing", got)
	}
}

// testTouchKeepsFiling: an application may slide an indexed session with
// Touch; the set filed under must then outlive the original expiry.
func testTouchKeepsFiling(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	soon := time.Now().Add(400 * time.Millisecond).Truncate(time.Millisecond)
	later := hourFromNow()
	mustCreate(t, e.s, "slid", "alice", soon, "v")
	if err := e.s.Touch(ctx, "slid", later); err != nil {
		t.Fatal(err)
	}
	if got, entry := e.expiryOf(t, e.setKey("alice")), e.expiryOf(t, e.prefix+"slid"); got < entry {
		t.Errorf("after Touch, the set expires at %d, before its entry (%d)", got, entry)
	}
	waitPast(t, e.client, soon.UnixMilli())
	got := readIndex(t, e.s, "alice")
	if g, ok := got["slid"]; !ok || !g.expires.Equal(later) {
		t.Errorf("past its first expiry, a touched entry is listed as %v, want slid expiring at %v", got, later)
	}
	// A Touch of an entry filed under none sends no filing.
	if err := e.s.Write(ctx, "plain", soon.Add(time.Hour), writeString("v")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Touch(ctx, "plain", later); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Touch(ctx, "absent", later); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch of an absent id = %v, want ErrNotFound", err)
	}
	if got := ids(readIndex(t, e.s, "alice")); !slices.Equal(got, []string{"slid"}) {
		t.Errorf("ReadIndex(alice) = %q, want [slid]", got)
	}
}

func testTouchPersist(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	mustCreate(t, e.s, "forever", "alice", hourFromNow(), "v")
	if err := e.s.Touch(ctx, "forever", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := e.expiryOf(t, e.prefix+"forever"); got != -1 {
		t.Errorf("after Touch(zero), the entry's PEXPIRETIME = %d, want -1 (none)", got)
	}
	if got := e.expiryOf(t, e.setKey("alice")); got != 253402300799999 {
		t.Errorf("after Touch(zero) of its entry, the set expires at %d, want 253402300799999 (9999)", got)
	}
	if got := readIndex(t, e.s, "alice"); !got["forever"].expires.IsZero() || len(got) != 1 {
		t.Errorf("ReadIndex(alice) = %v, want forever without expiry", got)
	}
}

// testSetExpiry: the set lives exactly as long as its longest-lived
// entry, whatever the order of the writes, so it goes by itself with the
// last of them.
func testSetExpiry(t *testing.T, e *ixEnv) {
	now := time.Now().Truncate(time.Millisecond)
	e1, e2, e3 := now.Add(2*time.Hour), now.Add(3*time.Hour), now.Add(time.Hour)
	mustCreate(t, e.s, "a", "alice", e1, "v")
	if got := e.expiryOf(t, e.setKey("alice")); got != e1.UnixMilli() {
		t.Errorf("a new set expires at %d, want its entry's %d", got, e1.UnixMilli())
	}
	mustCreate(t, e.s, "b", "alice", e2, "v")
	mustCreate(t, e.s, "c", "alice", e3, "v")
	if got := e.expiryOf(t, e.setKey("alice")); got != e2.UnixMilli() {
		t.Errorf("the set expires at %d, want the latest entry expiry %d", got, e2.UnixMilli())
	}
	short := time.Now().Add(300 * time.Millisecond)
	mustCreate(t, e.s, "x", "shortlived", short, "v")
	waitPast(t, e.client, short.UnixMilli())
	if got := e.expiryOf(t, e.setKey("shortlived")); got != -2 {
		t.Errorf("after its only entry expired, the set's PEXPIRETIME = %d, want -2 (gone)", got)
	}
}

func testReleases(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	exp := hourFromNow()
	for i := range 10 {
		mustCreate(t, e.s, fmt.Sprintf("s%d", i), "alice", exp, "v")
	}
	for i := range 9 {
		if err := e.s.Invalidate(ctx, fmt.Sprintf("s%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.members(t, "alice"); len(got) != 10 {
		t.Fatalf("before ReadIndex the set holds %d members, want the 10 filed (the test needs stale ones)", len(got))
	}
	readIndex(t, e.s, "alice")
	if got := e.members(t, "alice"); !slices.Equal(got, []string{"s9"}) {
		t.Errorf("after ReadIndex the set holds %q, want [s9]", got)
	}
}

// testCompaction: sessions come and go under an index key nothing lists
// (no "your devices" page, no cap). The writes keep the set near the live
// count rather than letting it hold every id ever filed.
func testCompaction(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	exp := hourFromNow()
	mustCreate(t, e.s, "keeper", "alice", exp, "v")
	const n = 300
	for i := range n {
		id := fmt.Sprintf("s%d", i)
		mustCreate(t, e.s, id, "alice", exp, "v")
		if err := e.s.Invalidate(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.members(t, "alice")); got >= 128 {
		t.Errorf("after %d sessions came and went next to one live one, the set holds %d members, want fewer than 128", n, got)
	}
	if got := ids(readIndex(t, e.s, "alice")); !slices.Equal(got, []string{"keeper"}) {
		t.Errorf("ReadIndex(alice) = %q, want [keeper]", got)
	}
}

// testCleaningKeepsRefiled: ReadIndex finds a member stale and, before its
// cleaning reaches the server, a write files the entry there again. The
// cleaning must leave the member: its stamp changed.
func testCleaningKeepsRefiled(t *testing.T, e *ixEnv) {
	exp := hourFromNow()
	mustCreate(t, e.s, "s1", "alice", exp, "v")
	mustReplace(t, e.s, "s1", "bob", exp, "v") // alice's member is stale now
	writer := mustNew(t, e.client, redis.WithPrefix(e.prefix))
	fired := false
	e.hook.arm(func(cmds []goredis.Cmder) bool {
		// The cleaning: EVALSHA of the unfile script on alice's set.
		return sends(cmds, "evalsha", e.setKey("alice")) || sends(cmds, "eval", e.setKey("alice"))
	}, func() {
		fired = true
		mustReplace(t, writer, "s1", "alice", exp, "back")
	}, nil)
	readIndex(t, e.s, "alice") // may or may not list s1: it moved meanwhile
	e.hook.arm(nil, nil, nil)
	if !fired {
		t.Fatal("ReadIndex sent no cleaning: the test did not exercise the race")
	}
	if got := readIndex(t, e.s, "alice"); got["s1"].content != "back" {
		t.Errorf("after a write re-filed s1 during a cleaning, ReadIndex(alice) = %v, want s1: the cleaning removed a live filing", got)
	}
}

// testOneVersion: while a writer alternates two versions, each with its
// own expiry, every entry ReadIndex yields pairs content and expiry of the
// same version.
func testOneVersion(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	base := hourFromNow()
	versions := []struct {
		content string
		exp     time.Time
	}{{"one", base}, {"two", base.Add(time.Minute)}}
	mustCreate(t, e.s, "s1", "alice", versions[0].exp, versions[0].content)
	const rounds = 200
	var wg sync.WaitGroup
	var werr atomic.Value
	wg.Go(func() {
		for i := range rounds {
			v := versions[i%2]
			if err := e.s.ReplaceIndexed(ctx, "s1", "alice", v.exp, writeString(v.content)); err != nil {
				werr.Store(err)
				return
			}
		}
	})
	for range rounds {
		for id, g := range readIndex(t, e.s, "alice") {
			ok := false
			for _, v := range versions {
				ok = ok || g.content == v.content && g.expires.Equal(v.exp)
			}
			if !ok {
				t.Fatalf("ReadIndex yielded %q as (%q, %v): content and expiry of different versions", id, g.content, g.expires)
			}
		}
	}
	wg.Wait()
	if err, _ := werr.Load().(error); err != nil {
		t.Fatal(err)
	}
}

func testListSkipsSets(t *testing.T, e *ixEnv) {
	exp := hourFromNow()
	mustCreate(t, e.s, "a", "alice", exp, "v")
	mustCreate(t, e.s, "b", "bob", exp, "v")
	if got := listIDs(t, e.s); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("List = %q, want [a b]: the sets of index keys are not sessions", got)
	}
}

// testClusterRefile: on a Cluster the filing and the SET are two round
// trips. A ReadIndex that runs between them sees the new member, reads the
// entry before the SET (still filed elsewhere) and removes the member, its
// stamp unchanged. The filing the write sends after its SET must bring it
// back.
func testClusterRefile(t *testing.T, e *ixEnv) {
	exp := hourFromNow()
	mustCreate(t, e.s, "s1", "bob", exp, "as bob")
	reader := mustNew(t, e.client, redis.WithPrefix(e.prefix))
	var between []string
	e.hook.arm(func(cmds []goredis.Cmder) bool {
		return sends(cmds, "set", e.prefix+"s1")
	}, func() {
		readIndex(t, reader, "alice")
		between = e.members(t, "alice")
	}, nil)
	mustReplace(t, e.s, "s1", "alice", exp, "as alice")
	e.hook.arm(nil, nil, nil)
	if between == nil || len(between) != 0 {
		t.Fatalf("between the filing and the SET, alice's set held %q after a ReadIndex, want nothing: the test did not exercise the race", between)
	}
	if got := readIndex(t, e.s, "alice"); got["s1"].content != "as alice" {
		t.Errorf("after the write, ReadIndex(alice) = %v, want s1: a cleaning between the filing and the SET unfiled a live entry", got)
	}
}

// testClusterFileFirst: on a Cluster, a write whose last round trip fails
// (the index key's master goes away after the SET) returns an error, but
// the entry it stored is filed, by the round trip before the SET.
func testClusterFileFirst(t *testing.T, e *ixEnv) {
	exp := hourFromNow()
	mustCreate(t, e.s, "s1", "bob", exp, "as bob")
	down := errors.New("the index key's master is down")
	setSent := false
	e.hook.arm(func(cmds []goredis.Cmder) bool {
		return sends(cmds, "set", e.prefix+"s1")
	}, func() {
		setSent = true
		// The next filing of alice's set, the one after the SET, fails.
		e.hook.mu.Lock()
		e.hook.match = func(cmds []goredis.Cmder) bool { return sends(cmds, "zadd", e.setKey("alice")) }
		e.hook.fail = down
		e.hook.mu.Unlock()
	}, nil)
	err := e.s.ReplaceIndexed(t.Context(), "s1", "alice", exp, writeString("as alice"))
	e.hook.arm(nil, nil, nil)
	if !setSent || !errors.Is(err, down) {
		t.Fatalf("ReplaceIndexed with its last round trip failing = %v (SET sent: %v), want the failure", err, setSent)
	}
	if got := readIndex(t, e.s, "alice"); got["s1"].content != "as alice" {
		t.Errorf("after a write stored the entry and failed to file it again, ReadIndex(alice) = %v, want s1", got)
	}
}

// testScriptFlush: after a restart, a failover or SCRIPT FLUSH the server
// has lost the scripts; ReadIndex, its cleaning and Touch load them again.
func testScriptFlush(t *testing.T, e *ixEnv) {
	ctx := t.Context()
	exp := hourFromNow()
	mustCreate(t, e.s, "a", "alice", exp, "v")
	mustCreate(t, e.s, "gone", "alice", exp, "v")
	if err := e.s.Invalidate(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	readIndex(t, e.s, "alice") // loads the scripts
	if err := e.s.Invalidate(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e.s, "b", "alice", exp, "v")
	if err := e.client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if got := ids(readIndex(t, e.s, "alice")); !slices.Equal(got, []string{"b"}) {
		t.Errorf("ReadIndex after SCRIPT FLUSH = %q, want [b]", got)
	}
	if got := e.members(t, "alice"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after SCRIPT FLUSH, the cleaning left %q, want [b]", got)
	}
	if err := e.client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Touch(ctx, "b", exp.Add(time.Hour)); err != nil {
		t.Errorf("Touch of an indexed entry after SCRIPT FLUSH = %v", err)
	}
	if got := e.expiryOf(t, e.setKey("alice")); got != exp.Add(time.Hour).UnixMilli() {
		t.Errorf("after Touch, the set expires at %d, want %d", got, exp.Add(time.Hour).UnixMilli())
	}
}
