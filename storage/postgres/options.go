package postgres

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// DefaultTable is the table a Store uses unless [WithTable] says otherwise.
const DefaultTable = "sessionkit_sessions"

// DefaultSweepInterval is how often the background sweeper removes expired
// rows unless [WithSweepInterval] says otherwise.
const DefaultSweepInterval = 5 * time.Minute

// DefaultSweepBatch is the number of rows DeleteExpired removes, and List
// fetches, per statement unless [WithSweepBatch] says otherwise.
const DefaultSweepBatch = 1000

// maxIdentifierLength is PostgreSQL's NAMEDATALEN minus one: longer names are
// silently truncated by the server, which would make two different
// configured names address the same table.
const maxIdentifierLength = 63

// Option configures a Store. Options are applied in order by New; a later
// option overrides an earlier one of the same kind. An invalid option makes
// New return an error.
type Option func(*options)

type options struct {
	schema, table string
	createTable   bool
	sweepInterval time.Duration
	batchSize     int
	onSweepError  func(error)
	errs          []error
}

func defaultOptions() options {
	return options{
		table:         DefaultTable,
		createTable:   true,
		sweepInterval: DefaultSweepInterval,
		batchSize:     DefaultSweepBatch,
		onSweepError:  logSweepError,
	}
}

func (o *options) fail(format string, args ...any) {
	o.errs = append(o.errs, fmt.Errorf("sessionkit/postgres: "+format, args...))
}

// WithTable sets the table that holds the sessions. The default is
// [DefaultTable] ("sessionkit_sessions") in the connection's search_path.
//
// name is a plain identifier or schema.table: each part starts with a letter
// or an underscore, continues with letters, digits, underscores or dollar
// signs, and is at most 63 bytes long. Anything else, including quotes,
// spaces and semicolons, makes New return an error, so a name can never
// smuggle SQL. The name is quoted in every statement, which makes it case
// sensitive: WithTable("Sessions") is the table "Sessions", not sessions.
func WithTable(name string) Option {
	return func(o *options) {
		schema, table, err := parseTableName(name)
		if err != nil {
			o.errs = append(o.errs, err)
			return
		}
		o.schema, o.table = schema, table
	}
}

// WithCreateTable sets whether New creates the table and its expiry index
// when the table is missing. The default is true. With false, New never runs
// DDL: it only checks that the table exists with the expected columns, and
// returns an error otherwise. Use it when the schema is managed by migrations
// (TableSQL gives the statements), so that a missing table is reported
// instead of created. Either way an existing table is left as it is, so a
// role without CREATE rights works with the default too.
func WithCreateTable(create bool) Option {
	return func(o *options) { o.createTable = create }
}

// WithSweepInterval sets how often a background goroutine deletes expired
// rows (the work of [Store.DeleteExpired]). The default is
// [DefaultSweepInterval] (5 minutes); zero or less turns the background
// sweeper off, for applications that call DeleteExpired on their own
// schedule. Close stops the sweeper and waits for it.
//
// Running a sweeper in every application instance is safe: sweeps delete in
// small batches and skip rows other transactions hold, so they neither block
// each other nor block requests for long.
func WithSweepInterval(d time.Duration) Option {
	return func(o *options) { o.sweepInterval = max(d, 0) }
}

// WithSweepBatch sets how many rows one statement of [Store.DeleteExpired]
// deletes; [Store.List] fetches ids in pages of the same size. The default
// is [DefaultSweepBatch] (1000). Smaller batches hold locks and connections
// for less time; larger ones need fewer round trips. A size below 1 makes
// [New] return an error.
func WithSweepBatch(n int) Option {
	return func(o *options) {
		if n < 1 {
			o.fail("WithSweepBatch: size %d is less than 1", n)
			return
		}
		o.batchSize = n
	}
}

// WithSweepErrorHandler sets the function the background sweeper calls with
// each error of a sweep; the sweeper then carries on at the next interval.
// The default logs the error with [slog.Default] at level Warn; a nil fn
// discards the errors. The errors never contain session ids or content. fn
// is called from the sweeper's goroutine, one call at a time.
func WithSweepErrorHandler(fn func(error)) Option {
	return func(o *options) {
		if fn == nil {
			fn = func(error) {}
		}
		o.onSweepError = fn
	}
}

func logSweepError(err error) {
	slog.Default().Warn("sessionkit/postgres: background sweep failed", "err", err)
}

// parseTableName splits name into an optional schema and a table and checks
// both against PostgreSQL's rules for unquoted identifiers.
func parseTableName(name string) (schema, table string, err error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return "", "", errors.New("sessionkit/postgres: WithTable: want table or schema.table")
	}
	for _, p := range parts {
		if err := checkIdentifier(p); err != nil {
			return "", "", fmt.Errorf("sessionkit/postgres: WithTable: %w", err)
		}
	}
	if len(parts) == 2 {
		return parts[0], parts[1], nil
	}
	return "", parts[0], nil
}

func checkIdentifier(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	if len(s) > maxIdentifierLength {
		return fmt.Errorf("name of %d bytes, longer than %d", len(s), maxIdentifierLength)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '$'):
		default:
			return fmt.Errorf("byte %d of the name is not allowed in an identifier: %q", i, c)
		}
	}
	return nil
}
