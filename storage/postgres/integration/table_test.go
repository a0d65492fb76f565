package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

func TestTableNameInjectionIsRefused(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	ctx := t.Context()
	canary := uniqueTable(t, pool)
	if _, err := pool.Exec(ctx, `CREATE TABLE `+canary+` (x int)`); err != nil {
		t.Fatal(err)
	}
	tables := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relkind = 'r'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := tables()
	for _, name := range []string{
		canary + "; DROP TABLE " + canary,
		canary + `"; DROP TABLE ` + canary + `; --`,
		canary + `(id text); DROP TABLE ` + canary,
		`x'); DROP TABLE ` + canary + `; --`,
		canary + " --",
		canary + "/**/",
		"public." + canary + ".x",
		`"` + canary + `"`,
	} {
		s, err := postgres.New(ctx, pool, postgres.WithTable(name))
		if err == nil {
			s.Close()
			t.Errorf("New accepted the table name %q", name)
		}
	}
	if _, err := pool.Exec(ctx, `SELECT x FROM `+canary); err != nil {
		t.Errorf("the canary table is damaged after the injection attempts: %v", err)
	}
	if after := tables(); after != before {
		t.Errorf("the injection attempts changed the number of tables from %d to %d", before, after)
	}
}

func TestWithCreateTableFalseOnAMissingTableFailsClearly(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	table := uniqueTable(t, pool)
	_, err := postgres.New(t.Context(), pool, postgres.WithTable(table), postgres.WithCreateTable(false))
	var pgErr *pgconn.PgError
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Fatalf("New on a missing table with WithCreateTable(false) = %v, want a \"does not exist\" error wrapping SQLSTATE 42P01", err)
	}
	var exists bool
	if err := pool.QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil || exists {
		t.Errorf("WithCreateTable(false) created the table (exists %v, %v)", exists, err)
	}
}

func TestWithCreateTableFalseUsesATableMadeFromTableSQL(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	table := uniqueTable(t, pool)
	ddl, err := postgres.TableSQL(table)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), ddl); err != nil {
		t.Fatalf("running TableSQL's statements: %v", err)
	}
	s, err := postgres.New(t.Context(), pool, postgres.WithTable(table), postgres.WithCreateTable(false))
	if err != nil {
		t.Fatalf("New on a table made from TableSQL = %v", err)
	}
	defer s.Close()
	if err := s.Write(t.Context(), "id", time.Now().Add(time.Hour), writeString("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := readString(t.Context(), s, "id"); err != nil || v != "v" {
		t.Errorf("Read = %q, %v; want \"v\"", v, err)
	}
}

func TestNewRefusesATableOfAnotherShape(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	for _, create := range []bool{true, false} {
		table := uniqueTable(t, pool)
		if _, err := pool.Exec(t.Context(), `CREATE TABLE `+table+` (id text PRIMARY KEY, payload bytea)`); err != nil {
			t.Fatal(err)
		}
		_, err := postgres.New(t.Context(), pool, postgres.WithTable(table), postgres.WithCreateTable(create))
		if err == nil || !strings.Contains(err.Error(), "lacks a column") {
			t.Errorf("New (create %v) on a table without data and expires_at = %v, want a \"lacks a column\" error", create, err)
		}
	}
}

func TestNewCreatesTheDocumentedSchema(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	_, table := newStore(t, pool)
	ctx := t.Context()
	rows, err := pool.Query(ctx, `SELECT column_name, data_type, is_nullable, coalesce(collation_name, '')
		FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name, typ, nullable, collation string
		if err := rows.Scan(&name, &typ, &nullable, &collation); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", name, typ, nullable, collation))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"id text NO C", "data bytea NO ", "expires_at timestamp with time zone YES ", "index_key text YES C"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("columns = %q, want %q", got, want)
	}
	var indexdef string
	if err := pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname = $2`,
		table, table+"_expires_at_idx").Scan(&indexdef); err != nil {
		t.Fatalf("the expiry index is missing: %v", err)
	}
	if !strings.Contains(indexdef, "(expires_at)") {
		t.Errorf("index = %s, want one on expires_at", indexdef)
	}
	if err := pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname = $2`,
		table, table+"_index_key_idx").Scan(&indexdef); err != nil {
		t.Fatalf("the index on index_key is missing: %v", err)
	}
	if !strings.Contains(indexdef, "(index_key, id) WHERE (index_key IS NOT NULL)") {
		t.Errorf("index = %s, want a partial one on (index_key, id) WHERE index_key IS NOT NULL", indexdef)
	}
}

func TestSchemaQualifiedTable(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	ctx := t.Context()
	schema := "sktest_schema_" + runID
	if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	s, err := postgres.New(ctx, pool, postgres.WithTable(schema+".sessions"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(ctx, "id", time.Time{}, writeString("v")); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "sessions"}.Sanitize()).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows in %s.sessions = %d, %v; want 1", schema, n, err)
	}
	var indexSchema string
	if err := pool.QueryRow(ctx, `SELECT schemaname FROM pg_indexes WHERE indexname = 'sessions_expires_at_idx'`).Scan(&indexSchema); err != nil || indexSchema != schema {
		t.Errorf("the expiry index is in schema %q (%v), want %q", indexSchema, err, schema)
	}
}

// TestConcurrentNewCreateTheTableOnce starts several instances at once on a
// missing table: CREATE TABLE IF NOT EXISTS alone can fail some of them
// with a unique violation in the catalog.
func TestConcurrentNewCreateTheTableOnce(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil, 16)
	for round := range 5 {
		table := uniqueTable(t, pool)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				s, err := postgres.New(t.Context(), pool, postgres.WithTable(table), postgres.WithSweepInterval(0))
				if err == nil {
					s.Close()
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: one of 8 concurrent New on a missing table failed: %v", round, err)
			}
		}
	}
}

// TestExistingTableNeedsNoDDLRights connects as a role that may use the
// table but not create anything in its schema: New with its defaults must
// work, because it creates nothing when the table exists.
func TestExistingTableNeedsNoDDLRights(t *testing.T) {
	dsn := containers.Postgres(t)
	admin := newPool(t, dsn, nil)
	ctx := t.Context()
	schema := "sktest_ddl_" + runID
	role := "sktest_role_" + runID
	table := schema + ".sessions"
	ddl, err := postgres.TableSQL(table)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		admin.Exec(context.Background(), `DROP OWNED BY `+role)
		admin.Exec(context.Background(), `DROP ROLE IF EXISTS `+role)
	})
	for _, q := range []string{
		`CREATE SCHEMA ` + schema,
		ddl,
		`CREATE ROLE ` + role + ` LOGIN`,
		`GRANT USAGE ON SCHEMA ` + schema + ` TO ` + role,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ` + table + ` TO ` + role,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.User = role
	cfg.ConnConfig.Password = ""
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := postgres.New(ctx, pool, postgres.WithTable(table))
	if err != nil {
		t.Fatalf("New on an existing table as a role without DDL rights = %v", err)
	}
	defer s.Close()
	if err := s.Write(ctx, "id", time.Now().Add(time.Hour), writeString("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := readString(ctx, s, "id"); err != nil || v != "v" {
		t.Errorf("Read = %q, %v; want \"v\"", v, err)
	}
	// The same role cannot create a missing table: New says so.
	var pgErr *pgconn.PgError
	if _, err := postgres.New(ctx, pool, postgres.WithTable(schema+".missing")); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("New on a missing table without DDL rights = %v, want an insufficient_privilege error", err)
	}
	// Nor upgrade a table made before index_key: New says what it tried.
	old := schema + ".old"
	for _, q := range []string{
		`CREATE TABLE ` + old + ` (id text COLLATE "C" PRIMARY KEY, data bytea NOT NULL, expires_at timestamptz NULL)`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ` + old + ` TO ` + role,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err = postgres.New(ctx, pool, postgres.WithTable(old))
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(err.Error(), "index_key") {
		t.Errorf("New on an old table without DDL rights = %v, want an insufficient_privilege error that names index_key", err)
	}
}
