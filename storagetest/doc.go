// Package storagetest is the conformance suite of sessionkit storages: the
// executable definition of the [sessions.Storage] contract and of the optional
// [sessions.Toucher], [sessions.ConditionalWriter], [sessions.ExpiryReader],
// [sessions.Indexer], [sessions.Lister], [sessions.Sweeper] and [io.Closer]
// capabilities. A storage
// that passes Run works with sessionkit.
//
// A storage's own tests call Run with a func that makes a fresh, empty
// storage for each subtest, and Benchmark with one that makes a storage for
// the standard workloads:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) sessions.Storage {
//			s := mystore.New()
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
//	func BenchmarkStorage(b *testing.B) {
//		storagetest.Benchmark(b, func(tb testing.TB) sessions.Storage {
//			s := mystore.New()
//			tb.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// A storage that keeps its data across a restart also proves it, with
// [WithReopen]:
//
//	func TestConformance(t *testing.T) {
//		open := func(t *testing.T, path string) sessions.Storage {
//			s, err := mystore.Open(path)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() }) // a second Close must be harmless
//			return s
//		}
//		storagetest.Run(t,
//			func(t *testing.T) sessions.Storage { return open(t, filepath.Join(t.TempDir(), "db")) },
//			storagetest.WithReopen(func(t *testing.T, s sessions.Storage) sessions.Storage {
//				path := s.(*mystore.Store).Path()
//				s.(io.Closer).Close()
//				return open(t, path)
//			}))
//	}
//
// # Subtests
//
// Every rule is a subtest named Group/Rule, so that a failure names the rule
// it breaks (TestConformance/ReadWrite/OverwriteShorter: a shorter value
// left the tail of a longer one behind) and -run selects rules. The groups:
//
//   - ReadWrite: Read returns exactly the bytes written (empty, every byte
//     value, a mebibyte), an overwrite replaces the whole value, and reading
//     never creates anything.
//   - Invalidate: Invalidate removes its id and only it; absent ids are fine.
//   - Expiry: an entry is gone once its expiry passes, the zero Time never
//     expires, an expiry in the past stores nothing readable, and Write sets
//     the expiry along with the content.
//   - WriteError, ReadError: a failing write func, at once or half way, leaves
//     the id as it was, and the callbacks' errors come back (errors.Is).
//   - Concurrency: concurrent Writes to one id end with one whole value,
//     concurrent Reads see whole values only, and 1,000 ids stay apart.
//   - InvalidID, ValidID: ids outside [A-Za-z0-9_-]{1,128} are refused with
//     sessions.ErrInvalidID by every method, and every id inside is its own
//     entry ("Ab" is not "ab").
//   - Context: a done context makes every method fail with an error wrapping
//     ctx.Err() and have no effect.
//   - Toucher, ConditionalWriter, ExpiryReader, Lister, Sweeper, Closer: the
//     optional capabilities, skipped when the storage lacks them. The
//     ConditionalWriter rules include two races run many times with
//     barriers: concurrent Creates of one id (exactly one wins) and a
//     Replace racing an Invalidate (the entry is never left live).
//   - Indexer: the index of entries by index key (a user's sessions), with
//     rules named after the Spring Session bugs they catch: an entry moves
//     when its index key changes (#343), a renewal lists the new id and not
//     the old one (#1972, #1987), expired entries are not listed, swept or
//     not (#2614); nothing leaks across index keys alike in case or prefix,
//     and concurrent filings and moves end as the last writes left them.
//   - Reopen: with WithReopen, data and expiries survive a close.
//   - Sessions: the sessions middleware over the storage, as an application
//     runs it, for a storage with ConditionalWriter: no raw id sits in the
//     storage, and an ended session never comes back, whatever request was
//     in flight (a Set over a logout, over a Renew, over an Invalidate from
//     another device; two concurrent Renews leave one successor).
//
// Failure messages say what the storage did and what the contract wants,
// for example "Read after overwriting 5000 bytes with 3: Read of "shrink"
// returned 5000 bytes: the 3 written followed by 4997 stale or extra bytes,
// want the 3 bytes written".
//
// # Time
//
// The expiry rules wait on the real clock: they write entries that expire a
// few hundred milliseconds ahead and read them once that has passed. A
// storage whose expiries are coarser than a few milliseconds says so with
// [WithExpiryResolution]. On a machine too slow to reach an entry before its
// short expiry, a rule that needs the entry live skips that check (with a
// log line) or the subtest, rather than fail a correct storage.
package storagetest
