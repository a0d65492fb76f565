package integration

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// TestEachOperationIsOnePreparedStatement checks that, once warm, every
// operation on one session runs exactly one statement and prepares nothing:
// pgx's statement cache makes that one round trip.
func TestEachOperationIsOnePreparedStatement(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log, 1)
	s, _ := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	steps := []struct {
		name string
		call func() error
		verb string
	}{
		{"WriteWithExpiry", func() error {
			return s.Write(ctx, "id1", time.Now().Add(time.Hour), writeString("v"))
		}, "INSERT"},
		{"WriteWithoutExpiry", func() error { return s.Write(ctx, "id2", time.Time{}, writeString("v")) }, "INSERT"},
		{"WriteAlreadyExpired", func() error {
			return s.Write(ctx, "id3", time.Now().Add(-time.Second), writeString("v"))
		}, "DELETE"},
		{"Read", func() error { _, err := readString(ctx, s, "id1"); return err }, "SELECT"},
		{"TouchWithExpiry", func() error { return s.Touch(ctx, "id1", time.Now().Add(2*time.Hour)) }, "UPDATE"},
		{"TouchWithoutExpiry", func() error { return s.Touch(ctx, "id1", time.Time{}) }, "UPDATE"},
		{"TouchAlreadyExpired", func() error { return s.Touch(ctx, "id2", time.Now().Add(-time.Second)) }, "DELETE"},
		{"Invalidate", func() error { return s.Invalidate(ctx, "id1") }, "DELETE"},
	}
	// Warm the statement cache of the pool's single connection.
	for _, st := range steps {
		st.call()
	}
	log.take()
	for _, st := range steps {
		if err := st.call(); err != nil && !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("%s: %v", st.name, err)
			continue
		}
		queries, prepares := log.take()
		if len(queries) != 1 || !strings.HasPrefix(queries[0], st.verb+" ") {
			t.Errorf("%s ran %q, want exactly one %s", st.name, queries, st.verb)
		}
		if len(prepares) != 0 {
			t.Errorf("%s prepared %q once warm, want its statement cached", st.name, prepares)
		}
	}
}

// TestListPaginatesWithoutHoldingAConnection lists in small batches from a
// pool of one connection while the loop body uses the Store: List must hold
// no connection while it yields, or the body would wait forever.
func TestListPaginatesWithoutHoldingAConnection(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log, 1)
	s, _ := newStore(t, pool, postgres.WithSweepInterval(0), postgres.WithSweepBatch(10))
	ctx := t.Context()
	var want []string
	for i := range 35 {
		id := fmt.Sprintf("id%02d", i)
		want = append(want, id)
		if err := s.Write(ctx, id, time.Now().Add(time.Hour), writeString(id)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if err := s.Write(ctx, fmt.Sprintf("gone%d", i), time.Now().Add(-time.Second), writeString("x")); err != nil {
			t.Fatal(err)
		}
	}
	log.take()
	var got []string
	for id, err := range s.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if v, err := readString(ctx, s, id); err != nil || v != id {
			t.Fatalf("Read inside the List loop = %q, %v; want %q", v, err, id)
		}
		got = append(got, id)
	}
	if !slices.Equal(got, want) {
		t.Errorf("List yielded %q, want %q in order, each once", got, want)
	}
	if n := log.count("ORDER BY id LIMIT"); n != 4 {
		t.Errorf("List ran %d batch queries for 35 ids in batches of 10, want 4", n)
	}
}

// TestExpiryIsJudgedByTheDatabaseClock writes rows whose expiry is set
// relative to the database's now(): every operation must agree with it.
func TestExpiryIsJudgedByTheDatabaseClock(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	insertRows(t, pool, table, "past", 1, -time.Second)
	insertRows(t, pool, table, "future", 1, time.Hour)

	if _, err := readString(ctx, s, "past0"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read of a row expired by the database clock = %v, want ErrNotFound", err)
	}
	if err := s.Touch(ctx, "past0", time.Now().Add(time.Hour)); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch of a row expired by the database clock = %v, want ErrNotFound", err)
	}
	if got := listIDs(t, s); !slices.Equal(got, []string{"future0"}) {
		t.Errorf("List = %q, want only the live row", got)
	}
	if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if _, err := readString(ctx, s, "future0"); err != nil {
		t.Errorf("Read of a live row = %v", err)
	}
}

func TestWriteStoresTheExpiryToTheMicrosecond(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	at := time.Now().Add(time.Hour).Truncate(time.Microsecond).Add(999 * time.Nanosecond)
	if err := s.Write(ctx, "id", at, writeString("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, "forever", time.Time{}, writeString("v")); err != nil {
		t.Fatal(err)
	}
	var got time.Time
	if err := pool.QueryRow(ctx, `SELECT expires_at FROM `+pgx.Identifier{table}.Sanitize()+` WHERE id = 'id'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Microsecond); !got.Equal(want) {
		t.Errorf("expires_at = %v, want %v (truncated to the microsecond)", got, want)
	}
	var null bool
	if err := pool.QueryRow(ctx, `SELECT expires_at IS NULL FROM `+pgx.Identifier{table}.Sanitize()+` WHERE id = 'forever'`).Scan(&null); err != nil || !null {
		t.Errorf("a zero expires stored expires_at IS NULL = %v, %v; want true", null, err)
	}
}

func TestListSkipsRowsThatAreNotSessionIDs(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	if err := s.Write(ctx, "good", time.Time{}, writeString("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO `+pgx.Identifier{table}.Sanitize()+
		` (id, data) VALUES ('../etc', 'x'), ('a b', 'x'), ('', 'x')`); err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, s); !slices.Equal(got, []string{"good"}) {
		t.Errorf("List = %q, want only the valid session id", got)
	}
}
