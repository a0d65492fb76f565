package integration

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// TestConditionalOperationsAreOnePreparedStatement: Create, Replace and
// ReadWithExpiry each run exactly one statement once warm, whatever their
// outcome.
func TestConditionalOperationsAreOnePreparedStatement(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log, 1)
	s, _ := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	steps := []struct {
		name string
		call func() error
		verb string
		err  error
	}{
		{"Create", func() error { return s.Create(ctx, "c", exp, writeString("v")) }, "INSERT", nil},
		{"CreateLive", func() error { return s.Create(ctx, "c", exp, writeString("v")) }, "INSERT", sessions.ErrExists},
		{"ReplaceWithExpiry", func() error { return s.Replace(ctx, "c", exp, writeString("w")) }, "UPDATE", nil},
		{"ReplaceWithoutExpiry", func() error { return s.Replace(ctx, "c", time.Time{}, writeString("x")) }, "UPDATE", nil},
		{"ReplaceMissing", func() error { return s.Replace(ctx, "gone", exp, writeString("x")) }, "UPDATE", sessions.ErrNotFound},
	}
	run := func(name string, call func() error, verb string, want error) {
		t.Helper()
		err := call()
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("%s returned %v, want %v", name, err, want)
		}
		queries, prepares := log.take()
		if len(queries) != 1 || !strings.HasPrefix(queries[0], verb+" ") {
			t.Errorf("%s ran %q, want exactly one %s", name, queries, verb)
		}
		if len(prepares) != 0 {
			t.Errorf("%s prepared %q once warm, want its statement cached", name, prepares)
		}
	}
	// Warm the statement cache of the pool's single connection.
	s.Create(ctx, "warm", exp, writeString("v"))
	s.Replace(ctx, "warm", exp, writeString("v"))
	s.ReadWithExpiry(ctx, "warm", func(r io.Reader, _ time.Time) error { return nil })
	log.take()
	for _, st := range steps {
		run(st.name, st.call, st.verb, st.err)
	}
	var got time.Time
	run("ReadWithExpiry", func() error {
		return s.ReadWithExpiry(ctx, "c", func(r io.Reader, e time.Time) error { got = e; return nil })
	}, "SELECT", nil)
	if !got.IsZero() {
		t.Errorf("ReadWithExpiry after a Replace with the zero expiry reported %v, want the zero Time", got)
	}
}

// TestConditionalWritesOnASchemaQualifiedTable: the ON CONFLICT clause of
// Create names the existing row through an alias, which a schema-qualified
// table needs.
func TestConditionalWritesOnASchemaQualifiedTable(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	ctx := t.Context()
	schema := "sktest_cond_" + runID
	if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	s, err := postgres.New(ctx, pool, postgres.WithTable(schema+".sessions"), postgres.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(ctx, "old", time.Now().Add(-time.Microsecond), writeString("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "id", time.Time{}, writeString("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "id", time.Time{}, writeString("w")); !errors.Is(err, sessions.ErrExists) {
		t.Errorf("Create of a live id = %v, want ErrExists", err)
	}
	if err := s.Replace(ctx, "id", time.Time{}, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := readString(ctx, s, "id"); err != nil || got != "x" {
		t.Errorf("Read = %q, %v; want %q", got, err, "x")
	}
}
