package storagetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storagetest"
)

// brokenEnv names the broken storage that TestBrokenHelper runs the suite
// against. TestBrokenStoragesFail sets it in the environment of a child
// process: Run needs a real *testing.T, and a failing one would fail this
// test binary.
const brokenEnv = "STORAGETEST_BROKEN"

// broken is a storage with one deliberate bug, and the subtests of Run that
// must catch it. Other subtests may fail too; these are the ones whose
// names point a storage author at the bug.
type broken struct {
	name   string
	doc    string
	new    func() sessions.Storage
	reopen func(t *testing.T, s sessions.Storage) sessions.Storage // nil: reopenRef
	catch  []string
}

// reference is the control of the harness: the reference storage, run the
// same way as the broken ones, passes.
var reference = broken{
	name: "Reference",
	doc:  "is correct",
	new:  func() sessions.Storage { return newRefStore() },
}

var brokenStorages = []broken{
	{
		name:  "StaleTail",
		doc:   "overwrites in place without truncating, so a shorter value keeps the tail of the longer one",
		new:   func() sessions.Storage { return staleTail{base{newRefStore()}} },
		catch: []string{"ReadWrite/OverwriteShorter"},
	},
	{
		name:  "IgnoresExpiry",
		doc:   "never checks expiries",
		new:   func() sessions.Storage { return ignoresExpiry{base{newRefStore()}} },
		catch: []string{"Expiry/PastExpiryNotFound", "Expiry/PastAtWrite", "Expiry/ZeroNeverExpires"},
	},
	{
		name:  "TornWrites",
		doc:   "publishes each chunk of a Write as it arrives, so readers and other writers see and mix partial values",
		new:   func() sessions.Storage { return tornWrites{base{newRefStore()}} },
		catch: []string{"Concurrency/Writers", "Concurrency/ReadersSeeWholeValues"},
	},
	{
		name:  "CreatesOnRead",
		doc:   "creates an empty entry when it reads an unknown id",
		new:   func() sessions.Storage { return createsOnRead{base{newRefStore()}} },
		catch: []string{"ReadWrite/ReadNeverCreates"},
	},
	{
		name: "AcceptsDotDot",
		doc:  "checks the length of ids only, so ../x and a/b reach the store",
		new: func() sessions.Storage {
			s := newRefStore()
			s.checkID = func(id string) error {
				if id == "" || len(id) > sessions.MaxIDLength {
					return sessions.ErrInvalidID
				}
				return nil
			}
			return s
		},
		catch: []string{"InvalidID/DotDotSlash", "InvalidID/Slash", "InvalidID/PercentEncodedDotDot"},
	},
	{
		name:  "HalfWritten",
		doc:   "streams into the entry and keeps what was written when the write func fails",
		new:   func() sessions.Storage { return halfWritten{base{newRefStore()}} },
		catch: []string{"WriteError/HalfWrittenKeepsOld", "WriteError/HalfWrittenNewIDNotCreated"},
	},
	{
		name: "IgnoresCanceledContext",
		doc:  "never looks at its context",
		new: func() sessions.Storage {
			s := newRefStore()
			s.checkCtx = func(context.Context) error { return nil }
			return s
		},
		catch: []string{"Context/CanceledWrite", "Context/CanceledWriteNewID", "Context/CanceledRead", "Context/CanceledInvalidate", "Context/DeadlineExceeded", "ConditionalWriter/Canceled", "ExpiryReader/Canceled"},
	},
	{
		name:  "PlainNotFound",
		doc:   "reports an absent id with an error that does not wrap sessions.ErrNotFound",
		new:   func() sessions.Storage { return plainNotFound{base{newRefStore()}} },
		catch: []string{"ReadWrite/UnknownID", "Invalidate/Removes"},
	},
	{
		name:  "ListsExpired",
		doc:   "lists expired entries",
		new:   func() sessions.Storage { return listsExpired{base{newRefStore()}} },
		catch: []string{"Lister/NoExpiredIDs"},
	},
	{
		name:  "TouchCreates",
		doc:   "creates an empty entry when it touches an unknown id",
		new:   func() sessions.Storage { return touchCreates{base{newRefStore()}} },
		catch: []string{"Toucher/UnknownID", "ReadWrite/ReadNeverCreates"},
	},
	{
		name:  "WorksAfterClose",
		doc:   "has a Close that does nothing",
		new:   func() sessions.Storage { return worksAfterClose{base{newRefStore()}} },
		catch: []string{"Closer/CallsAfterClose", "Indexer/CallsAfterClose"},
	},
	{
		name: "ReopenLosesData",
		doc:  "comes back empty after a reopen, like a map in memory",
		new:  func() sessions.Storage { return newRefStore() },
		reopen: func(t *testing.T, s sessions.Storage) sessions.Storage {
			s.(io.Closer).Close()
			return newRef(t)
		},
		catch: []string{"Reopen/KeepsData", "Reopen/KeepsTouchedExpiry"},
	},
	{
		name:  "KeepsExpiryOnOverwrite",
		doc:   "keeps the old expiry when it replaces an entry (an upsert that forgets the expiry column)",
		new:   func() sessions.Storage { return keepsExpiryOnOverwrite{base{newRefStore()}} },
		catch: []string{"Expiry/OverwriteReplacesExpiry"},
	},
	{
		name: "FoldsCase",
		doc:  "folds ids to lower case, as a case-insensitive file system does",
		new: func() sessions.Storage {
			return foldsCase{base{newRefStore()}}
		},
		catch: []string{"ValidID/CaseSensitive", "ValidID/WholeAlphabet"},
	},
	{
		name:  "RetainsWriteBuffer",
		doc:   "keeps the slices passed to its writer instead of copying them",
		new:   func() sessions.Storage { return retainsWriteBuffer{base{newRefStore()}} },
		catch: []string{"ReadWrite/WriterDoesNotRetainBuffer"},
	},
	{
		name:  "DeleteThenInsert",
		doc:   "replaces an entry by deleting it and then inserting the new one, so a concurrent Read finds nothing",
		new:   func() sessions.Storage { return deleteThenInsert{base{newRefStore()}} },
		catch: []string{"Concurrency/ReadersSeeWholeValues"},
	},
	{
		name:  "TouchRevivesExpired",
		doc:   "touches expired entries back to life",
		new:   func() sessions.Storage { return touchRevivesExpired{base{newRefStore()}} },
		catch: []string{"Toucher/Expired"},
	},
	{
		name:  "ListsDuplicates",
		doc:   "yields some ids twice, as a Redis SCAN can",
		new:   func() sessions.Storage { return listsDuplicates{base{newRefStore()}} },
		catch: []string{"Lister/ExactlyLiveIDs"},
	},
	{
		name:  "ListIgnoresBreak",
		doc:   "keeps calling yield after it returned false",
		new:   func() sessions.Storage { return listIgnoresBreak{base{newRefStore()}} },
		catch: []string{"Lister/BreakStopsIteration"},
	},
	{
		name:  "SweepMiscounts",
		doc:   "removes expired entries but always reports 0",
		new:   func() sessions.Storage { return sweepMiscounts{base{newRefStore()}} },
		catch: []string{"Sweeper/RemovesExpiredKeepsLive"},
	},
	{
		name:  "SwallowsReadError",
		doc:   "returns nil when the read func fails",
		new:   func() sessions.Storage { return swallowsReadError{base{newRefStore()}} },
		catch: []string{"ReadError/Returned"},
	},
	{
		name:  "ZoneBlindExpiry",
		doc:   "keeps the wall clock of an expiry and drops its zone, like a Postgres timestamp without time zone",
		new:   func() sessions.Storage { return zoneBlindExpiry{base{newRefStore()}} },
		catch: []string{"Expiry/TimeZoneIndependent"},
	},

	{
		name:  "EmptyIsAbsent",
		doc:   "reports an empty value as absent",
		new:   func() sessions.Storage { return emptyIsAbsent{base{newRefStore()}} },
		catch: []string{"ReadWrite/EmptyValue"},
	},
	{
		name:  "Truncates64KiB",
		doc:   "keeps only the first 64 KiB of a value",
		new:   func() sessions.Storage { return truncates64KiB{base{newRefStore()}} },
		catch: []string{"ReadWrite/OneMiB", "ReadWrite/OverwriteLonger"},
	},
	{
		name:  "ReadOnce",
		doc:   "removes an entry when it is read, like a flash message",
		new:   func() sessions.Storage { return readOnce{base{newRefStore()}} },
		catch: []string{"ReadWrite/RepeatedRead"},
	},
	{
		name:  "Tombstones",
		doc:   "refuses to write an id that was invalidated",
		new:   func() sessions.Storage { return &tombstones{base: base{newRefStore()}, dead: make(map[string]bool)} },
		catch: []string{"ReadWrite/WriteAfterInvalidate"},
	},
	{
		name:  "PrefixInvalidate",
		doc:   "removes every id that starts with the one invalidated, like a careless pattern delete",
		new:   func() sessions.Storage { return prefixInvalidate{base{newRefStore()}} },
		catch: []string{"Invalidate/KeepsOtherIDs"},
	},
	{
		name:  "MemcachedTTL",
		doc:   "passes a TTL in seconds on, which memcached reads as a Unix time when it exceeds 30 days",
		new:   func() sessions.Storage { return memcachedTTL{base{newRefStore()}} },
		catch: []string{"Expiry/FarFuture"},
	},
	{
		name:  "InsertIgnoresExpired",
		doc:   "does not replace an expired entry it still holds (INSERT ... ON CONFLICT DO NOTHING)",
		new:   func() sessions.Storage { return insertIgnoresExpired{base{newRefStore()}} },
		catch: []string{"Expiry/WriteOverExpired"},
	},
	{
		name:  "ExpiryBeforeContent",
		doc:   "sets the new expiry before it knows whether the write func succeeds",
		new:   func() sessions.Storage { return expiryBeforeContent{base{newRefStore()}} },
		catch: []string{"Expiry/FailedWriteKeepsExpiry"},
	},
	{
		name:  "DropsOnReadError",
		doc:   "removes an entry whose read func fails",
		new:   func() sessions.Storage { return dropsOnReadError{base{newRefStore()}} },
		catch: []string{"ReadError/KeepsContent"},
	},
	{
		name:  "SweepsLive",
		doc:   "removes every entry in DeleteExpired",
		new:   func() sessions.Storage { return sweepsLive{base{newRefStore()}} },
		catch: []string{"Sweeper/NothingExpired", "Sweeper/RemovesExpiredKeepsLive"},
	},
	{
		name: "CloseTwicePanics",
		doc:  "closes a channel in Close, so a second Close panics",
		new: func() sessions.Storage {
			return &closeTwicePanics{base: base{newRefStore()}, done: make(chan struct{})}
		},
		catch: []string{"Closer/CloseTwice"},
	},
	{
		name: "ReopenForgetsExpiry",
		doc:  "keeps expiries in memory only, so entries come back immortal after a reopen",
		new:  func() sessions.Storage { return newRefStore() },
		reopen: func(t *testing.T, s sessions.Storage) sessions.Storage {
			r := s.(*refStore)
			r.d.mu.Lock()
			for id, e := range r.d.entries {
				e.expires = time.Time{}
				r.d.entries[id] = e
			}
			r.d.mu.Unlock()
			return reopenRef(t, r)
		},
		catch: []string{"Reopen/KeepsExpiry", "Reopen/ReadWithExpiry"},
	},
	{
		name:  "CreateOverwrites",
		doc:   "creates with an unconditional Write, so a new id overwrites a live session",
		new:   func() sessions.Storage { return createOverwrites{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/CreateNeverOverwritesLive", "ConditionalWriter/ConcurrentCreatesOneWins"},
	},
	{
		name:  "CreateRefusesExpired",
		doc:   "refuses to create an id whose expired entry it still holds",
		new:   func() sessions.Storage { return createRefusesExpired{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/CreateReusesExpired"},
	},
	{
		name:  "CreateChecksBeforeWrite",
		doc:   "checks that the id is absent before it runs the write func and stores afterwards, so concurrent Creates all win",
		new:   func() sessions.Storage { return createChecksBeforeWrite{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/ConcurrentCreatesOneWins"},
	},
	{
		name:  "ReplaceCreates",
		doc:   "replaces with an unconditional Write, so a Replace of an absent id creates it",
		new:   func() sessions.Storage { return replaceCreates{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/ReplaceNeverCreates", "ConditionalWriter/ReplaceExpired", "ConditionalWriter/ReplaceRacingInvalidate"},
	},
	{
		name:  "ReplaceRevivesExpired",
		doc:   "replaces an entry it still holds even when it has expired",
		new:   func() sessions.Storage { return replaceRevivesExpired{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/ReplaceExpired"},
	},
	{
		name:  "ReplaceChecksBeforeWrite",
		doc:   "checks that the entry is live before it runs the write func and stores afterwards, so a concurrent logout is undone",
		new:   func() sessions.Storage { return replaceChecksBeforeWrite{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/ReplaceRacingInvalidate"},
	},
	{
		name:  "ReplaceKeepsExpiry",
		doc:   "keeps the old expiry when it replaces an entry",
		new:   func() sessions.Storage { return replaceKeepsExpiry{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/ReplaceSetsExpiry", "ExpiryReader/ReportsReplacedExpiry"},
	},
	{
		name:  "ConditionalHalfWritten",
		doc:   "streams Create and Replace into the entry and keeps what was written when the write func fails",
		new:   func() sessions.Storage { return conditionalHalfWritten{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/FailedWriteKeepsOld"},
	},
	{
		name:  "ConditionalIgnoresContext",
		doc:   "never looks at the context of Create and Replace",
		new:   func() sessions.Storage { return conditionalIgnoresContext{base{newRefStore()}} },
		catch: []string{"ConditionalWriter/Canceled"},
	},
	{
		name:  "ExpiryReaderReportsNever",
		doc:   "reports every entry's expiry as the zero Time",
		new:   func() sessions.Storage { return expiryReaderReportsNever{base{newRefStore()}} },
		catch: []string{"ExpiryReader/ReportsWrittenExpiry", "ExpiryReader/ReportsTouchedExpiry", "ExpiryReader/ReportsReplacedExpiry"},
	},
	{
		name: "ExpiryReaderMissesTouch",
		doc:  "reports the expiry of the last Write, not the one Touch set since",
		new: func() sessions.Storage {
			return &expiryReaderMissesTouch{base: base{newRefStore()}, written: make(map[string]time.Time)}
		},
		catch: []string{"ExpiryReader/ReportsTouchedExpiry"},
	},
	{
		name:  "ExpiryReaderReadsExpired",
		doc:   "reads expired entries with their expiry",
		new:   func() sessions.Storage { return expiryReaderReadsExpired{base{newRefStore()}} },
		catch: []string{"ExpiryReader/NotFound"},
	},
	{
		name:  "ExpiryReaderSwallowsReadError",
		doc:   "returns nil when the read func of ReadWithExpiry fails",
		new:   func() sessions.Storage { return expiryReaderSwallowsReadError{base{newRefStore()}} },
		catch: []string{"ExpiryReader/ReadError"},
	},

	// Indexer: the Spring Session bug classes first (stale entries after
	// Invalidate, expiry and a sweep; renewed sessions missed; a principal
	// change not followed; leaks across index keys), then the rest of the
	// contract.
	{
		name:  "IndexListsInvalidated",
		doc:   "keeps the filing of an invalidated entry and trusts its filing set, so ReadIndex yields the invalidated id (empty, as MGET answers a missing key)",
		new:   func() sessions.Storage { return indexListsInvalidated{base{newRefStore()}} },
		catch: []string{"Indexer/InvalidateUnlists", "Indexer/RenewedAwayNotListed"},
	},
	{
		name:  "IndexListsExpired",
		doc:   "yields every filed entry it holds in ReadIndex, expired or not (Spring Session #2614)",
		new:   func() sessions.Storage { return indexListsExpired{base{newRefStore()}} },
		catch: []string{"Indexer/ExpiredNotListed", "Indexer/TouchKeepsFiling"},
	},
	{
		name:  "IndexSweepKeepsFilings",
		doc:   "removes swept entries but not their filings, so an id swept and filed again elsewhere is listed under its old index key too",
		new:   func() sessions.Storage { return indexSweepKeepsFilings{base{newRefStore()}} },
		catch: []string{"Indexer/SweptNotListed"},
	},
	{
		name:  "IndexMissesCreated",
		doc:   "files an entry only when ReplaceIndexed rewrites it, not when CreateIndexed makes it, so a renewed session is missing from its index key (Spring Session #1987)",
		new:   func() sessions.Storage { return indexMissesCreated{base{newRefStore()}} },
		catch: []string{"Indexer/RenewedAwayNotListed", "Indexer/FilesAndReads"},
	},
	{
		name:  "IndexNeverMoves",
		doc:   "keeps the index key an entry was first filed under when ReplaceIndexed names another (Spring Session #343)",
		new:   func() sessions.Storage { return indexNeverMoves{base{newRefStore()}} },
		catch: []string{"Indexer/MovesWithPrincipalChange"},
	},
	{
		name:  "IndexKeepsPlainRewrites",
		doc:   "keeps an entry's filing when Write, Create or Replace rewrites it without an index key",
		new:   func() sessions.Storage { return indexKeepsPlainRewrites{base{newRefStore()}} },
		catch: []string{"Indexer/PlainWritesUnfile"},
	},
	{
		name: "IndexChecksOnlyLiveness",
		doc:  "filings lazily but checks only that a filed entry is live, not that it is still filed under the index key read",
		new: func() sessions.Storage {
			s := newRefStore()
			s.d.lazy = true
			return indexChecksOnlyLiveness{base{s}}
		},
		catch: []string{"Indexer/ReusedIDLeavesOldIndexKey", "Indexer/MovesWithPrincipalChange", "Indexer/PlainWritesUnfile"},
	},
	{
		name: "IndexLeaksAcrossKeys",
		doc:  "yields the entries of every index key in ReadIndex",
		new: func() sessions.Storage {
			return indexMatches{base{newRefStore()}, func(key, index string) bool { return true }}
		},
		catch: []string{"Indexer/NoLeakAcrossIndexKeys"},
	},
	{
		name:  "IndexPrefixMatch",
		doc:   "reads the index keys that start with the one asked for, like a SCAN or LIKE pattern",
		new:   func() sessions.Storage { return indexMatches{base{newRefStore()}, strings.HasPrefix} },
		catch: []string{"Indexer/NoLeakAcrossIndexKeys"},
	},
	{
		name:  "IndexFoldsCase",
		doc:   "compares index keys case-insensitively, like a SQL column with a case-insensitive collation",
		new:   func() sessions.Storage { return indexMatches{base{newRefStore()}, strings.EqualFold} },
		catch: []string{"Indexer/NoLeakAcrossIndexKeys"},
	},
	{
		name:  "IndexFilesRefusedCreate",
		doc:   "files the id under its index key before the condition of CreateIndexed refuses it, like an SADD in the MULTI of a failing SET NX",
		new:   func() sessions.Storage { return indexFilesRefusedCreate{base{newRefStore()}} },
		catch: []string{"Indexer/CreateOverLiveChangesNothing"},
	},
	{
		name:  "IndexFilesRefusedReplace",
		doc:   "files the id under its index key before the condition of ReplaceIndexed refuses it",
		new:   func() sessions.Storage { return indexFilesRefusedReplace{base{newRefStore()}} },
		catch: []string{"Indexer/ReplaceIndexedNeverCreates"},
	},
	{
		name:  "IndexMovesBeforeWrite",
		doc:   "moves the filing of ReplaceIndexed before it runs the write func, and keeps the move when the write func fails",
		new:   func() sessions.Storage { return indexMovesBeforeWrite{base{newRefStore()}} },
		catch: []string{"Indexer/FailedWriteChangesNothing"},
	},
	{
		name:  "IndexTouchUnfiles",
		doc:   "rewrites the entry without its index key in Touch",
		new:   func() sessions.Storage { return indexTouchUnfiles{base{newRefStore()}} },
		catch: []string{"Indexer/TouchKeepsFiling"},
	},
	{
		name: "IndexStaleExpiry",
		doc:  "yields in ReadIndex the expiry an entry was filed with, not the one Touch set since (a sorted set whose scores Touch forgets)",
		new: func() sessions.Storage {
			return &indexStaleExpiry{base: base{newRefStore()}, filedAt: make(map[string]time.Time)}
		},
		catch: []string{"Indexer/TouchKeepsFiling"},
	},
	{
		name:  "IndexIgnoresCanceledContext",
		doc:   "never looks at the context of ReadIndex",
		new:   func() sessions.Storage { return indexIgnoresContext{base{newRefStore()}} },
		catch: []string{"Indexer/Canceled"},
	},
	{
		name:  "IndexReadErrorContinues",
		doc:   "goes on calling the read func of ReadIndex after it failed, and returns nil",
		new:   func() sessions.Storage { return indexReadErrorContinues{base{newRefStore()}} },
		catch: []string{"Indexer/ReadErrorStops"},
	},
	{
		name: "IndexAcceptsBadKey",
		doc:  "checks the length of index keys only, so ../x and a/b reach the store",
		new: func() sessions.Storage {
			s := newRefStore()
			s.checkKey = func(index string) error {
				if index == "" || len(index) > sessions.MaxIDLength {
					return sessions.ErrInvalidID
				}
				return nil
			}
			return s
		},
		catch: []string{"Indexer/InvalidIndexKey"},
	},
	{
		name:  "IndexLosesConcurrentFilings",
		doc:   "reads, changes and writes back the filing set of CreateIndexed in steps of their own, as a storage keeping it as one serialized value does",
		new:   func() sessions.Storage { return indexLosesFilings{base{newRefStore()}} },
		catch: []string{"Indexer/ConcurrentFilingsMatchModel"},
	},
	{
		name:  "IndexMovesInTwoSteps",
		doc:   "stores a ReplaceIndexed and files it under its new index key in two steps, so concurrent moves leave the id under both keys",
		new:   func() sessions.Storage { return indexMovesInTwoSteps{base{newRefStore()}} },
		catch: []string{"Indexer/ConcurrentMovesLastWriterWins"},
	},
	{
		name:  "IndexTornVersion",
		doc:   "reads an entry's content and its expiry for ReadIndex in two steps, so they may come from different writes",
		new:   func() sessions.Storage { return indexTornVersion{base{newRefStore()}} },
		catch: []string{"Indexer/OneVersionPerEntry"},
	},
	{
		name: "IndexForgetsOnReopen",
		doc:  "keeps its index in memory only, so a reopened storage lists nothing",
		new:  func() sessions.Storage { return newRefStore() },
		reopen: func(t *testing.T, s sessions.Storage) sessions.Storage {
			r := s.(*refStore)
			r.d.mu.Lock()
			clear(r.d.filed)
			r.d.mu.Unlock()
			return reopenRef(t, r)
		},
		catch: []string{"Indexer/SurvivesReopen"},
	},
}

// TestBrokenHelper runs the suite against the broken storage named by
// $STORAGETEST_BROKEN. It is a child process of TestBrokenStoragesFail and
// skips when run any other way.
func TestBrokenHelper(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("runs only as a child process of TestBrokenStoragesFail")
	}
	for _, b := range append([]broken{reference}, brokenStorages...) {
		t.Run(b.name, func(t *testing.T) {
			if b.name != name {
				t.Skip("not the broken storage of this run")
			}
			reopen := b.reopen
			if reopen == nil {
				reopen = func(t *testing.T, s sessions.Storage) sessions.Storage {
					return reopenRef(t, unwrap(s))
				}
			}
			storagetest.Run(t, func(t *testing.T) sessions.Storage {
				s := b.new()
				t.Cleanup(func() { unwrap(s).Close() })
				return s
			}, storagetest.WithReopen(reopen))
		})
	}
}

// TestBrokenStoragesFail: each broken storage fails the suite, and among
// the failing subtests are those named after its bug. This is the suite's
// proof that it has teeth.
func TestBrokenStoragesFail(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite once per broken storage")
	}
	// The child processes spend most of their time waiting for expiries,
	// so they run several at a time, more than t.Parallel would allow on a
	// machine with few cores.
	runs := runChildren(t.Context(), append([]broken{reference}, brokenStorages...))
	t.Run(reference.name, func(t *testing.T) {
		r := runs[reference.name]
		if r.err != nil {
			t.Fatalf("the suite run in a child process on the reference storage failed: %v\n%s", r.err, r.out)
		}
		if !strings.Contains(r.out, "--- PASS: TestBrokenHelper/Reference ") {
			t.Fatalf("the child process did not run the suite on the reference storage\n%s", r.out)
		}
	})
	for _, b := range brokenStorages {
		t.Run(b.name, func(t *testing.T) {
			r := runs[b.name]
			var exit *exec.ExitError
			switch {
			case r.err == nil:
				t.Fatalf("the suite passed a storage that %s; want it to fail\n%s", b.doc, r.out)
			case !errors.As(r.err, &exit):
				t.Fatalf("the child process running the suite did not finish: %v\n%s", r.err, r.out)
			}
			failed := failedSubtests(r.out, "TestBrokenHelper/"+b.name+"/")
			for _, want := range b.catch {
				if !failed[want] {
					t.Errorf("the suite did not fail %s on a storage that %s; it failed %v", want, b.doc, slices.Sorted(maps.Keys(failed)))
				}
			}
			if t.Failed() {
				t.Logf("output of the child process:\n%s", r.out)
			}
		})
	}
}

// runPattern selects the suite run of b in TestBrokenHelper: the groups its
// catch list names (the others cannot tell whether it is caught, and
// running them in every child process would only slow the test down), or
// the whole suite for the reference.
func (b broken) runPattern() string {
	p := "^TestBrokenHelper$/^" + b.name + "$"
	var groups []string
	for _, c := range b.catch {
		g, _, _ := strings.Cut(c, "/")
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return p
	}
	return p + "/^(" + strings.Join(groups, "|") + ")$"
}

// childRun is the outcome of one child process.
type childRun struct {
	out string
	err error // nil: the suite passed; an *exec.ExitError: it failed
}

// runChildren runs TestBrokenHelper on each storage in a child process, a
// few at a time, and returns the outcomes by storage name.
func runChildren(ctx context.Context, storages []broken) map[string]childRun {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var mu sync.Mutex
	runs := make(map[string]childRun)
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8)
	for _, b := range storages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+b.runPattern(), "-test.v", "-test.count=1", "-test.timeout=2m")
			cmd.Env = append(os.Environ(), brokenEnv+"="+b.name)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				err = fmt.Errorf("timed out: %w", ctx.Err())
			}
			mu.Lock()
			runs[b.name] = childRun{string(out), err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return runs
}

// failLine matches the line go test -v prints for a failed (sub)test.
var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+) \(`)

// failedSubtests returns the failed subtests in output whose names start
// with prefix, without the prefix.
func failedSubtests(output, prefix string) map[string]bool {
	failed := make(map[string]bool)
	for _, m := range failLine.FindAllStringSubmatch(output, -1) {
		if name, ok := strings.CutPrefix(m[1], prefix); ok {
			failed[name] = true
		}
	}
	return failed
}

// unwrap returns the refStore inside a broken storage.
func unwrap(s sessions.Storage) *refStore {
	switch s := s.(type) {
	case *refStore:
		return s
	case interface{ ref() *refStore }:
		return s.ref()
	}
	panic(fmt.Sprintf("unwrap: %T is not a reference storage", s))
}

// base gives each broken storage the reference's methods; a broken storage
// overrides the one it gets wrong.
type base struct{ *refStore }

func (b base) ref() *refStore { return b.refStore }

// stored returns the entry of id, live or not.
func (b base) stored(id string) (refEntry, bool) {
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	e, ok := b.d.entries[id]
	return e, ok
}

// set replaces the entry of id, moving its filing to e.index.
func (b base) set(id string, e refEntry) {
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	b.d.put(id, e)
}

// buffer runs write into a new buffer, as the reference's Write does.
func buffer(write func(io.Writer) error) ([]byte, error) {
	var buf bytes.Buffer
	err := write(&buf)
	return buf.Bytes(), err
}

type staleTail struct{ base }

func (s staleTail) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	data, err := buffer(write)
	if err != nil {
		return err
	}
	b := s.base
	old, _ := b.stored(id)
	if len(old.data) > len(data) {
		// The bug: "overwrite" the old bytes and keep its length.
		merged := bytes.Clone(old.data)
		copy(merged, data)
		data = merged
	}
	b.set(id, refEntry{data: data, expires: expires})
	return nil
}

type ignoresExpiry struct{ base }

func (s ignoresExpiry) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	e, ok := s.stored(id)
	if !ok { // the bug: no e.live check
		return sessions.ErrNotFound
	}
	return read(bytes.NewReader(e.data))
}

type tornWrites struct{ base }

func (s tornWrites) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	// The bug: each chunk is published under the lock, but the lock is
	// not held across the whole value.
	s.set(id, refEntry{expires: expires})
	return write(chunkWriter(func(p []byte) {
		s.d.mu.Lock()
		e := s.d.entries[id]
		e.data = append(bytes.Clone(e.data), p...)
		s.d.entries[id] = e
		s.d.mu.Unlock()
		runtime.Gosched()
	}))
}

// chunkWriter is an io.Writer that hands each chunk to a func.
type chunkWriter func(p []byte)

func (f chunkWriter) Write(p []byte) (int, error) {
	f(p)
	return len(p), nil
}

type createsOnRead struct{ base }

func (s createsOnRead) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	b := s.base
	if _, ok := b.stored(id); !ok && sessions.CheckID(id) == nil && !s.closed.Load() {
		b.set(id, refEntry{}) // the bug
		return sessions.ErrNotFound
	}
	return s.refStore.Read(ctx, id, read)
}

type halfWritten struct{ base }

func (s halfWritten) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	// The bug: the entry is truncated and written in place, and nothing is
	// undone when write fails.
	e := refEntry{expires: expires}
	s.d.entries[id] = e
	return write(chunkWriter(func(p []byte) {
		e.data = append(e.data, p...)
		s.d.entries[id] = e
	}))
}

type plainNotFound struct{ base }

func (s plainNotFound) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	err := s.refStore.Read(ctx, id, read)
	if errors.Is(err, sessions.ErrNotFound) {
		return errors.New("not found") // the bug
	}
	return err
}

type listsExpired struct{ base }

func (s listsExpired) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if s.closed.Load() {
			yield("", sessions.ErrClosed)
			return
		}
		if err := ctx.Err(); err != nil {
			yield("", err)
			return
		}
		s.d.mu.Lock()
		var ids []string
		for id := range s.d.entries { // the bug: no e.live check
			ids = append(ids, id)
		}
		s.d.mu.Unlock()
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
	}
}

type touchCreates struct{ base }

func (s touchCreates) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	b := s.base
	e, _ := b.stored(id) // the bug: an absent id gets an empty entry
	e.expires = expires
	b.set(id, e)
	return nil
}

type worksAfterClose struct{ base }

func (worksAfterClose) Close() error { return nil }

type keepsExpiryOnOverwrite struct{ base }

func (s keepsExpiryOnOverwrite) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	b := s.base
	old, existed := b.stored(id)
	if err := s.refStore.Write(ctx, id, expires, write); err != nil {
		return err
	}
	if existed && old.live(time.Now()) {
		e, _ := b.stored(id)
		e.expires = old.expires // the bug
		b.set(id, e)
	}
	return nil
}

type foldsCase struct{ base }

func (s foldsCase) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.refStore.Write(ctx, strings.ToLower(id), expires, write)
}

func (s foldsCase) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	return s.refStore.Read(ctx, strings.ToLower(id), read)
}

func (s foldsCase) Invalidate(ctx context.Context, id string) error {
	return s.refStore.Invalidate(ctx, strings.ToLower(id))
}

func (s foldsCase) Touch(ctx context.Context, id string, expires time.Time) error {
	return s.refStore.Touch(ctx, strings.ToLower(id), expires)
}

type retainsWriteBuffer struct{ base }

func (s retainsWriteBuffer) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	var chunks [][]byte
	if err := write(chunkWriter(func(p []byte) {
		chunks = append(chunks, p) // the bug: p is kept, not copied
	})); err != nil {
		return err
	}
	s.set(id, refEntry{data: bytes.Join(chunks, nil), expires: expires})
	return nil
}

type deleteThenInsert struct{ base }

func (s deleteThenInsert) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	data, err := buffer(write)
	if err != nil {
		return err
	}
	s.d.mu.Lock()
	delete(s.d.entries, id) // the bug: two steps where one is needed
	s.d.mu.Unlock()
	time.Sleep(100 * time.Microsecond)
	s.set(id, refEntry{data: data, expires: expires})
	return nil
}

type touchRevivesExpired struct{ base }

func (s touchRevivesExpired) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	b := s.base
	e, ok := b.stored(id)
	if !ok { // the bug: no e.live check
		return sessions.ErrNotFound
	}
	e.expires = expires
	b.set(id, e)
	return nil
}

type listsDuplicates struct{ base }

func (s listsDuplicates) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		i := 0
		for id, err := range s.refStore.List(ctx) {
			if !yield(id, err) {
				return
			}
			if i++; i%7 == 0 && err == nil && !yield(id, nil) { // the bug
				return
			}
		}
	}
}

type listIgnoresBreak struct{ base }

func (s listIgnoresBreak) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for id, err := range s.refStore.List(ctx) {
			yield(id, err) // the bug: the result is ignored
		}
	}
}

type sweepMiscounts struct{ base }

func (s sweepMiscounts) DeleteExpired(ctx context.Context) (int, error) {
	_, err := s.refStore.DeleteExpired(ctx)
	return 0, err // the bug
}

type swallowsReadError struct{ base }

func (s swallowsReadError) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	err := s.refStore.Read(ctx, id, func(r io.Reader) error {
		_ = read(r) // the bug
		return nil
	})
	return err
}

type zoneBlindExpiry struct{ base }

func (s zoneBlindExpiry) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if !expires.IsZero() {
		// The bug: the wall clock in the caller's zone is read as UTC.
		y, mo, d := expires.Date()
		h, mi, sec := expires.Clock()
		expires = time.Date(y, mo, d, h, mi, sec, expires.Nanosecond(), time.UTC)
	}
	return s.refStore.Write(ctx, id, expires, write)
}

type emptyIsAbsent struct{ base }

func (s emptyIsAbsent) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if e, ok := s.stored(id); ok && len(e.data) == 0 && sessions.CheckID(id) == nil && !s.closed.Load() {
		return sessions.ErrNotFound // the bug
	}
	return s.refStore.Read(ctx, id, read)
}

type truncates64KiB struct{ base }

func (s truncates64KiB) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.refStore.Write(ctx, id, expires, func(w io.Writer) error {
		return write(&limitWriter{w: w, n: 64 << 10}) // the bug
	})
}

// limitWriter passes on the first n bytes and drops the rest.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	keep := p[:min(len(p), l.n)]
	l.n -= len(keep)
	if _, err := l.w.Write(keep); err != nil {
		return 0, err
	}
	return len(p), nil
}

type readOnce struct{ base }

func (s readOnce) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := s.refStore.Read(ctx, id, read); err != nil {
		return err
	}
	return s.refStore.Invalidate(ctx, id) // the bug
}

type tombstones struct {
	base
	mu   sync.Mutex
	dead map[string]bool
}

func (s *tombstones) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	s.mu.Lock()
	dead := s.dead[id]
	s.mu.Unlock()
	if dead {
		return nil // the bug
	}
	return s.refStore.Write(ctx, id, expires, write)
}

func (s *tombstones) Invalidate(ctx context.Context, id string) error {
	if err := s.refStore.Invalidate(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	s.dead[id] = true
	s.mu.Unlock()
	return nil
}

type prefixInvalidate struct{ base }

func (s prefixInvalidate) Invalidate(ctx context.Context, id string) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	for other := range s.d.entries {
		if strings.HasPrefix(other, id) { // the bug
			delete(s.d.entries, other)
		}
	}
	return nil
}

type memcachedTTL struct{ base }

func (s memcachedTTL) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if !expires.IsZero() {
		// The bug: a TTL over 30 days is taken as a Unix time, far in the past.
		if ttl := time.Until(expires); ttl > 30*24*time.Hour {
			expires = time.Unix(int64(ttl/time.Second), 0)
		}
	}
	return s.refStore.Write(ctx, id, expires, write)
}

type insertIgnoresExpired struct{ base }

func (s insertIgnoresExpired) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if e, ok := s.stored(id); ok && !e.live(time.Now()) {
		_, err := buffer(write)
		return err // the bug: the conflicting row stays
	}
	return s.refStore.Write(ctx, id, expires, write)
}

type expiryBeforeContent struct{ base }

func (s expiryBeforeContent) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if e, ok := s.stored(id); ok {
		e.expires = expires // the bug
		s.set(id, e)
	}
	return s.refStore.Write(ctx, id, expires, write)
}

type dropsOnReadError struct{ base }

func (s dropsOnReadError) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	err := s.refStore.Read(ctx, id, read)
	if err != nil && !errors.Is(err, sessions.ErrNotFound) {
		s.refStore.Invalidate(ctx, id) // the bug
	}
	return err
}

type sweepsLive struct{ base }

func (s sweepsLive) DeleteExpired(ctx context.Context) (int, error) {
	if err := s.begin(ctx, "sweep"); err != nil {
		return 0, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	n := 0
	for id, e := range s.d.entries {
		if !e.live(time.Now()) {
			n++
		}
		delete(s.d.entries, id) // the bug
	}
	return n, nil
}

type closeTwicePanics struct {
	base
	done chan struct{}
}

func (s *closeTwicePanics) Close() error {
	close(s.done) // the bug: panics the second time
	return s.refStore.Close()
}

type createOverwrites struct{ base }

func (s createOverwrites) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.refStore.Write(ctx, id, expires, write) // the bug
}

type createRefusesExpired struct{ base }

func (s createRefusesExpired) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if _, ok := s.stored(id); ok && s.begin(ctx, id) == nil {
		return sessions.ErrExists // the bug: no e.live check
	}
	return s.refStore.Create(ctx, id, expires, write)
}

type createChecksBeforeWrite struct{ base }

func (s createChecksBeforeWrite) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	if e, ok := s.stored(id); ok && e.live(time.Now()) {
		return sessions.ErrExists
	}
	// The bug: the check above and the store below are two steps.
	data, err := buffer(write)
	if err != nil {
		return err
	}
	s.set(id, refEntry{data: data, expires: expires})
	return nil
}

type replaceCreates struct{ base }

func (s replaceCreates) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.refStore.Write(ctx, id, expires, write) // the bug
}

type replaceRevivesExpired struct{ base }

func (s replaceRevivesExpired) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	data, err := buffer(write)
	if err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if _, ok := s.d.entries[id]; !ok { // the bug: no e.live check
		return sessions.ErrNotFound
	}
	s.d.entries[id] = refEntry{data: data, expires: expires}
	return nil
}

type replaceChecksBeforeWrite struct{ base }

func (s replaceChecksBeforeWrite) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	if e, ok := s.stored(id); !ok || !e.live(time.Now()) {
		return sessions.ErrNotFound
	}
	// The bug: the check above and the store below are two steps.
	data, err := buffer(write)
	if err != nil {
		return err
	}
	s.set(id, refEntry{data: data, expires: expires})
	return nil
}

type replaceKeepsExpiry struct{ base }

func (s replaceKeepsExpiry) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	old, _ := s.stored(id)
	return s.refStore.Replace(ctx, id, old.expires, write) // the bug
}

type conditionalHalfWritten struct{ base }

func (s conditionalHalfWritten) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.stream(ctx, id, expires, write, func(e refEntry, ok bool) bool { return !ok || !e.live(time.Now()) }, sessions.ErrExists)
}

func (s conditionalHalfWritten) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.stream(ctx, id, expires, write, func(e refEntry, ok bool) bool { return ok && e.live(time.Now()) }, sessions.ErrNotFound)
}

func (s conditionalHalfWritten) stream(ctx context.Context, id string, expires time.Time, write func(io.Writer) error, cond func(refEntry, bool) bool, refused error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if e, ok := s.d.entries[id]; !cond(e, ok) {
		return refused
	}
	// The bug: the entry is truncated and written in place, and nothing is
	// undone when write fails.
	e := refEntry{expires: expires}
	s.d.entries[id] = e
	return write(chunkWriter(func(p []byte) {
		e.data = append(e.data, p...)
		s.d.entries[id] = e
	}))
}

type conditionalIgnoresContext struct{ base }

func (s conditionalIgnoresContext) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.refStore.Create(context.Background(), id, expires, write) // the bug
}

func (s conditionalIgnoresContext) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.refStore.Replace(context.Background(), id, expires, write) // the bug
}

type expiryReaderReportsNever struct{ base }

func (s expiryReaderReportsNever) ReadWithExpiry(ctx context.Context, id string, read func(io.Reader, time.Time) error) error {
	return s.refStore.ReadWithExpiry(ctx, id, func(r io.Reader, _ time.Time) error {
		return read(r, time.Time{}) // the bug
	})
}

type expiryReaderMissesTouch struct {
	base
	mu      sync.Mutex
	written map[string]time.Time
}

func (s *expiryReaderMissesTouch) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.refStore.Write(ctx, id, expires, write); err != nil {
		return err
	}
	s.mu.Lock()
	s.written[id] = expires
	s.mu.Unlock()
	return nil
}

func (s *expiryReaderMissesTouch) ReadWithExpiry(ctx context.Context, id string, read func(io.Reader, time.Time) error) error {
	return s.refStore.ReadWithExpiry(ctx, id, func(r io.Reader, _ time.Time) error {
		s.mu.Lock()
		exp := s.written[id] // the bug: a Touch since is not seen
		s.mu.Unlock()
		return read(r, exp)
	})
}

type expiryReaderReadsExpired struct{ base }

func (s expiryReaderReadsExpired) ReadWithExpiry(ctx context.Context, id string, read func(io.Reader, time.Time) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	e, ok := s.stored(id)
	if !ok { // the bug: no e.live check
		return sessions.ErrNotFound
	}
	return read(bytes.NewReader(e.data), e.expires)
}

type expiryReaderSwallowsReadError struct{ base }

func (s expiryReaderSwallowsReadError) ReadWithExpiry(ctx context.Context, id string, read func(io.Reader, time.Time) error) error {
	return s.refStore.ReadWithExpiry(ctx, id, func(r io.Reader, exp time.Time) error {
		_ = read(r, exp) // the bug
		return nil
	})
}

// The broken Indexers below each change one thing about the reference's
// index, which is exact (put and del keep the filing sets in step with the
// entries) and which ReadIndex trusts, checking only that an entry is live.

// readIndexWith is ReadIndex yielding the entries of the index keys match
// accepts (the one asked for, in the reference) that keep accepts.
func (b base) readIndexWith(ctx context.Context, index string, match func(key, index string) bool, keep func(e refEntry, ok bool) bool, read func(string, time.Time, io.Reader) error) error {
	if err := b.beginIndex(ctx, index); err != nil {
		return err
	}
	b.d.mu.Lock()
	var out []indexed
	for key, ids := range b.d.filed {
		if !match(key, index) {
			continue
		}
		for id := range ids {
			if e, ok := b.d.entries[id]; keep(e, ok) {
				out = append(out, indexed{id, e})
			}
		}
	}
	b.d.mu.Unlock()
	return b.yieldIndexed(out, read)
}

func sameKey(key, index string) bool { return key == index }

type indexListsInvalidated struct{ base }

func (s indexListsInvalidated) Invalidate(ctx context.Context, id string) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	delete(s.d.entries, id) // the bug: the filing stays
	return nil
}

func (s indexListsInvalidated) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	return s.readIndexWith(ctx, index, sameKey, func(e refEntry, ok bool) bool {
		return !ok || e.live(time.Now()) // a filed id with no entry is yielded empty
	}, read)
}

type indexListsExpired struct{ base }

func (s indexListsExpired) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	return s.readIndexWith(ctx, index, sameKey, func(e refEntry, ok bool) bool {
		return ok // the bug: no e.live check
	}, read)
}

type indexSweepKeepsFilings struct{ base }

func (s indexSweepKeepsFilings) DeleteExpired(ctx context.Context) (int, error) {
	if err := s.begin(ctx, "sweep"); err != nil {
		return 0, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	n := 0
	for id, e := range s.d.entries {
		if !e.live(time.Now()) {
			delete(s.d.entries, id) // the bug: the filing stays
			n++
		}
	}
	return n, nil
}

type indexMissesCreated struct{ base }

func (s indexMissesCreated) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.checkIndex(index); err != nil {
		return err
	}
	return s.refStore.CreateIndexed(ctx, id, "", expires, write) // the bug
}

type indexNeverMoves struct{ base }

func (s indexNeverMoves) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.checkIndex(index); err != nil {
		return err
	}
	if old, ok := s.stored(id); ok && old.index != "" {
		index = old.index // the bug
	}
	return s.refStore.ReplaceIndexed(ctx, id, index, expires, write)
}

type indexKeepsPlainRewrites struct{ base }

// filedUnder returns the index key id is filed under, the bug of each of
// the plain writes below.
func (s indexKeepsPlainRewrites) filedUnder(id string) string {
	old, _ := s.stored(id)
	return old.index
}

func (s indexKeepsPlainRewrites) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, id, s.filedUnder(id), expires, write, func(refEntry, bool) error { return nil })
}

func (s indexKeepsPlainRewrites) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.refStore.CreateIndexed(ctx, id, s.filedUnder(id), expires, write)
}

func (s indexKeepsPlainRewrites) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.refStore.ReplaceIndexed(ctx, id, s.filedUnder(id), expires, write)
}

type indexChecksOnlyLiveness struct{ base }

func (s indexChecksOnlyLiveness) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	return s.readIndexWith(ctx, index, sameKey, func(e refEntry, ok bool) bool {
		return ok && e.live(time.Now()) // the bug: no e.index == index check
	}, read)
}

// indexMatches reads the index keys match accepts.
type indexMatches struct {
	base
	match func(key, index string) bool
}

func (s indexMatches) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	return s.readIndexWith(ctx, index, s.match, func(e refEntry, ok bool) bool { return ok && e.live(time.Now()) }, read)
}

type indexFilesRefusedCreate struct{ base }

func (s indexFilesRefusedCreate) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err == nil && s.checkIndex(index) == nil {
		s.d.mu.Lock()
		s.d.file(id, index) // the bug: before the condition
		s.d.mu.Unlock()
	}
	return s.refStore.CreateIndexed(ctx, id, index, expires, write)
}

type indexFilesRefusedReplace struct{ base }

func (s indexFilesRefusedReplace) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err == nil && s.checkIndex(index) == nil {
		s.d.mu.Lock()
		s.d.file(id, index) // the bug: before the condition
		s.d.mu.Unlock()
	}
	return s.refStore.ReplaceIndexed(ctx, id, index, expires, write)
}

type indexMovesBeforeWrite struct{ base }

func (s indexMovesBeforeWrite) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	if err := s.checkIndex(index); err != nil {
		return err
	}
	s.d.mu.Lock()
	if e, ok := s.d.entries[id]; ok && e.live(time.Now()) {
		e.index = index // the bug: moved before the write func has run
		s.d.put(id, e)
	}
	s.d.mu.Unlock()
	return s.refStore.ReplaceIndexed(ctx, id, index, expires, write)
}

type indexTouchUnfiles struct{ base }

func (s indexTouchUnfiles) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.refStore.Touch(ctx, id, expires); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if e, ok := s.d.entries[id]; ok {
		e.index = "" // the bug
		s.d.put(id, e)
	}
	return nil
}

type indexStaleExpiry struct {
	base
	mu      sync.Mutex
	filedAt map[string]time.Time
}

func (s *indexStaleExpiry) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	return s.record(id, expires, s.refStore.CreateIndexed(ctx, id, index, expires, write))
}

func (s *indexStaleExpiry) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	return s.record(id, expires, s.refStore.ReplaceIndexed(ctx, id, index, expires, write))
}

func (s *indexStaleExpiry) record(id string, expires time.Time, err error) error {
	if err == nil {
		s.mu.Lock()
		s.filedAt[id] = expires
		s.mu.Unlock()
	}
	return err
}

func (s *indexStaleExpiry) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	return s.refStore.ReadIndex(ctx, index, func(id string, _ time.Time, r io.Reader) error {
		s.mu.Lock()
		exp := s.filedAt[id] // the bug: a Touch since is not seen
		s.mu.Unlock()
		return read(id, exp, r)
	})
}

type indexIgnoresContext struct{ base }

func (s indexIgnoresContext) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	return s.refStore.ReadIndex(context.Background(), index, read) // the bug
}

type indexReadErrorContinues struct{ base }

func (s indexReadErrorContinues) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	return s.refStore.ReadIndex(ctx, index, func(id string, exp time.Time, r io.Reader) error {
		_ = read(id, exp, r) // the bug
		return nil
	})
}

type indexLosesFilings struct{ base }

func (s indexLosesFilings) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if index == "" {
		return s.refStore.CreateIndexed(ctx, id, index, expires, write)
	}
	// The bug: the filing set is read, changed and written back in steps
	// of their own.
	s.d.mu.Lock()
	ids := maps.Clone(s.d.filed[index])
	s.d.mu.Unlock()
	if err := s.refStore.CreateIndexed(ctx, id, index, expires, write); err != nil {
		return err
	}
	runtime.Gosched()
	if ids == nil {
		ids = make(map[string]bool)
	}
	ids[id] = true
	s.d.mu.Lock()
	s.d.filed[index] = ids
	s.d.mu.Unlock()
	return nil
}

type indexMovesInTwoSteps struct{ base }

func (s indexMovesInTwoSteps) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.checkIndex(index); err != nil {
		return err
	}
	// The bug: stored and taken out of its old index key in one step,
	// filed under the new one in another.
	if err := s.refStore.ReplaceIndexed(ctx, id, "", expires, write); err != nil {
		return err
	}
	runtime.Gosched()
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if e, ok := s.d.entries[id]; ok {
		e.index = index
		s.d.entries[id] = e
		s.d.file(id, index)
	}
	return nil
}

type indexTornVersion struct{ base }

func (s indexTornVersion) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	if err := s.beginIndex(ctx, index); err != nil {
		return err
	}
	now := time.Now()
	for _, x := range s.collect(index, func(_ string, e refEntry, ok bool) bool { return ok && e.live(now) }) {
		// The bug: the expiry is looked up again, apart from the content.
		time.Sleep(50 * time.Microsecond)
		e, _ := s.stored(x.id)
		if err := read(x.id, e.expires, bytes.NewReader(x.e.data)); err != nil {
			return err
		}
	}
	return nil
}
