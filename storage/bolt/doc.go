// Package bolt is a [sessions.Storage] kept in a single bbolt
// (go.etcd.io/bbolt) database file: an embedded, durable backend for one
// machine that must keep its sessions across restarts, with no server to
// run.
//
// Open a file, or wrap a *bbolt.DB you already have with New:
//
//	store, err := bolt.Open("sessions.db")
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	m, err := sessions.New(sessions.Cookie[Login]("LOGIN", sessions.WithStorage(store)))
//
// # Layout
//
// Sessions live in one top-level bucket ([WithBucket], "sessionkit" by
// default), keyed by id. Each value is an 8-byte big-endian expiry in Unix
// nanoseconds (0: never) followed by the session content. Reads, List and
// Touch treat an entry whose expiry has passed as absent; DeleteExpired, run
// by a background sweeper every 10 minutes by default, removes such entries
// in bounded batches so that the file does not keep dead sessions.
//
// An entry filed under an index key (see below) sets the top bit of its
// expiry header, which no expiry uses, and holds the index key, as one
// length byte and its bytes, between the header and the content. The
// filings themselves live in a bucket nested in the Store's bucket, under
// the key "\x00sessionkit-index" (never an id: ids are [A-Za-z0-9_-]),
// created by the first indexed write; its keys are index key, a zero byte
// and id, with empty values. Entries that were never filed keep the plain
// layout byte for byte, so files from before the index read unchanged.
//
// # Index
//
// The Store is a [sessions.Indexer]: CreateIndexed and ReplaceIndexed file
// an entry under an index key (the middleware's hash of a user id, say),
// and ReadIndex yields the live entries of one index key. The filing is
// written in the same write transaction as the entry, through the group
// commit, and so are its removals: Write, Create and Replace (which file
// under no index key), a move by ReplaceIndexed, Invalidate, a write or
// Touch with an expiry in the past and the sweeper's removal of an expired
// entry each delete the old filing in the transaction that changes the
// entry. The filing bucket therefore holds exactly the filings the entries
// record, before and after any crash. ReadIndex is one cursor Seek over
// the filings of its index key and one Get per filing, in short read
// transactions that end before its read function runs: it costs the
// entries of that index key, never a scan of the store, and skips entries
// past their expiry that the sweeper has not removed yet.
//
// # Durability
//
// A Write, Touch or Invalidate that returned nil is committed and fsynced:
// it survives a crash of the process or of the machine. Concurrent changes
// share one transaction and one fsync (group commit), which is what makes
// parallel request handlers fast on a real disk. WithSync(false) trades that
// guarantee for speed; read its documentation before using it.
//
// # Conditional writes
//
// Create (only if absent or expired) and Replace (only if live), the
// sessions.ConditionalWriter that keeps a logout from being undone by a
// request in flight, check the entry and put the new one in the same write
// transaction, so no other change can come between. They join the group
// commit like Write: the changes of one batch apply in queue order, each
// seeing the ones before it. ReadWithExpiry (sessions.ExpiryReader) reads
// content and expiry in one read transaction, so a cache in front of the
// Store keeps what it loads.
//
// # Transactions and callbacks
//
// No bbolt transaction is open while user code runs: Read copies the
// content out before calling its read function, Write runs its write
// function into a buffer before the write transaction, and List and
// ReadIndex yield between short read transactions. Long read transactions in bbolt stall
// the growth of the file, and so every writer; this package never leaves
// one open on a caller's behalf, and callbacks may call back into the
// Store.
//
// # Damaged files
//
// bbolt panics on a page that is not what it should be, and a garbage
// offset in a page can fault the process. A Store turns both into errors
// wrapping [ErrCorrupt], at Open and on every call, and leaves no lock,
// transaction, descriptor or goroutine behind. Open checks the pages it
// depends on (meta, freelist, the page of the top-level buckets, the length
// of the file) and fails on damage there; bbolt falls back to the older of
// its two meta pages when only one is damaged, losing the last transaction.
// A damaged branch or leaf page of the sessions is found by the first call
// that reaches it: that call fails, and the Store is poisoned, so that
// every later call fails with ErrCorrupt too, because a write on a damaged
// tree can spread the damage and a read can return bytes of no session or
// of another. Close still works and releases the file; restore it from a
// backup or salvage it with bbolt's command line tool, then open it again.
//
// # Processes
//
// bbolt lets one process use a database file at a time. A second process
// (or a second Store over the same file in one process) waits in Open for
// the [WithLockTimeout] duration and then fails with an error wrapping
// bbolt's ErrTimeout. Run one instance of the application per file, or use
// a shared backend (redis, postgres) for several.
package bolt
