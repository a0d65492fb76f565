// Package postgres is a sessionkit storage backend on PostgreSQL, through a
// pgx v5 connection pool.
//
//	pool, err := pgxpool.New(ctx, "postgres://app@localhost:5432/app?sslmode=disable")
//	...
//	defer pool.Close()
//	store, err := postgres.New(ctx, pool, postgres.WithTable("app.sessions"))
//	...
//	defer store.Close()
//
// # Layout
//
// Each session is one row of a table (see New and TableSQL for the exact
// statements):
//
//	id         text COLLATE "C" NOT NULL  -- the primary key
//	data       bytea NOT NULL          -- the session bytes, as written
//	expires_at timestamptz NULL        -- NULL: never expires
//	index_key  text COLLATE "C" NULL   -- NULL: filed under no index key
//
// with a primary key on id that INCLUDEs expires_at, so that List walks
// the index alone (on a table of a million sessions that has outgrown the
// server's cache, reading each row's heap page cost 29.6µs per id), an
// index on expires_at for sweeping and a partial one on
// (index_key, id) WHERE index_key IS NOT NULL for ReadIndex. A table made
// by an earlier version keeps its plain primary key, and List then reads
// the heap too; nothing else changes. Every operation
// on one session is one statement; pgx's statement cache prepares each once
// per connection, so after that an operation is one round trip:
//
//	Write           INSERT ... ON CONFLICT (id) DO UPDATE SET data, expires_at, index_key = NULL
//	                (DELETE when the expiry is already past)
//	Read            SELECT data ... WHERE id = $1 AND live
//	ReadWithExpiry  SELECT data, expires_at ... WHERE id = $1 AND live
//	Invalidate      DELETE ... WHERE id = $1
//	Touch           UPDATE ... SET expires_at WHERE id = $1 AND live (DELETE when past)
//	Create          INSERT ... (index_key NULL) ON CONFLICT (id) DO UPDATE ... WHERE expired
//	                (SELECT EXISTS when the expiry is already past)
//	CreateIndexed   the same INSERT, with index_key = $4
//	Replace         UPDATE ... SET data, expires_at, index_key = NULL WHERE id = $1 AND live
//	                (DELETE of the live row when past)
//	ReplaceIndexed  the same UPDATE, with index_key = $4
//	ReadIndex       SELECT id, expires_at, data ... WHERE index_key = $1 AND id > $2
//	                AND live ORDER BY id LIMIT n, batch after batch
//	List            SELECT id ... WHERE id > $1 AND live ORDER BY id LIMIT n, batch after batch
//	DeleteExpired   DELETE ... WHERE id IN (SELECT ... expired LIMIT n FOR UPDATE SKIP LOCKED)
//
// where live is (expires_at IS NULL OR expires_at > now()).
//
// # Conditional writes
//
// Create and Replace (sessions.ConditionalWriter) are one statement each, so
// PostgreSQL's row locks make them atomic: Create is INSERT ... ON CONFLICT
// (id) DO UPDATE ... WHERE the existing row has expired, Replace is UPDATE
// ... WHERE id = $1 AND the row is live, both by now(). A Replace racing a
// logout's DELETE waits for its lock and then finds no row, so a session
// that ended is never written back; the plain upsert of Write would bring
// it back. ReadWithExpiry (sessions.ExpiryReader) selects expires_at with
// the content.
//
// # Index
//
// Store implements sessions.Indexer, which lists and ends a user's sessions,
// with the index_key column: the index key of a session is part of its row,
// set by the very statement that writes the row (CreateIndexed and
// ReplaceIndexed set it, every other write clears it), so filing costs no
// statement and no round trip of its own, and the index can never disagree
// with the sessions. ReadIndex selects the live rows of one index key through
// the partial index on (index_key, id): its cost is that of those rows,
// whatever the table holds, and it is exact: a session that ended, expired or
// moved to another index key is filtered by the same statement, and the
// sweeper's DELETE of expired rows takes their filings with them.
//
// A table made before the index_key column existed is brought up to date
// by New (ALTER TABLE ... ADD COLUMN IF NOT EXISTS, CREATE INDEX IF NOT
// EXISTS), or by the statements of TableSQL where migrations manage the
// schema.
//
// # Expiry
//
// Whether a row is live is judged by the database server's clock: every
// statement that must not see expired rows says
// (expires_at IS NULL OR expires_at > now()). All application servers thus
// agree on which sessions are live whatever their clock skew; only the
// expiry instants come from the application. Expired rows are invisible at
// once but stay in the table until a sweep deletes them: Store implements
// [sessions.Sweeper] with DeleteExpired, which deletes in small batches, and by
// default runs it in a background goroutine every five minutes
// ([WithSweepInterval]) until Close.
//
// # Errors and contexts
//
// Ids are checked with [sessions.CheckID] before any statement is built, and an
// invalid id yields an error wrapping [sessions.ErrInvalidID] without touching
// the network. A missing or expired session yields an error wrapping
// [sessions.ErrNotFound]; after Close every call yields one wrapping
// [sessions.ErrClosed]. Driver errors are wrapped with %w, so errors.As finds
// a *pgconn.PgError; when a call fails because its context's deadline
// passed, the error also wraps context.DeadlineExceeded. pgx honours
// contexts in every network operation, so a call returns by its deadline
// even when the server stalls. Errors never contain session ids or content.
//
// A Store never closes the pool it was given.
package postgres
