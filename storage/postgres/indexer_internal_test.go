package postgres

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// TestInvalidIndexKeysAreRefusedBeforeAnyDial: an index key is checked as
// an id is, before anything reaches the network, and the empty one is
// refused by ReadIndex (it is no index key to read).
func TestInvalidIndexKeysAreRefusedBeforeAnyDial(t *testing.T) {
	s, dials := offlineStore(t)
	keys := []string{"../x", "a/b", "a b", "x'; DROP TABLE t; --", "é", strings.Repeat("k", sessions.MaxIDLength+1)}
	exp := time.Now().Add(time.Hour)
	for _, k := range keys {
		if err := s.CreateIndexed(t.Context(), "id", k, exp, writeString("v")); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("CreateIndexed with index key %q = %v, want an error wrapping ErrInvalidID", k, err)
		}
		if err := s.ReplaceIndexed(t.Context(), "id", k, exp, writeString("v")); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("ReplaceIndexed with index key %q = %v, want an error wrapping ErrInvalidID", k, err)
		}
	}
	err := s.ReadIndex(t.Context(), "", func(string, time.Time, io.Reader) error {
		t.Error("ReadIndex(\"\") called read")
		return nil
	})
	if !errors.Is(err, sessions.ErrInvalidID) {
		t.Errorf("ReadIndex(\"\") = %v, want an error wrapping ErrInvalidID", err)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("invalid index keys caused %d dials, want none", n)
	}
}

// TestEmptyIndexKeyIsNoIndexKey: CreateIndexed and ReplaceIndexed accept
// the empty index key (filed under none) and go on to the network.
func TestEmptyIndexKeyIsNoIndexKey(t *testing.T) {
	s, dials := offlineStore(t)
	exp := time.Now().Add(time.Hour)
	for name, call := range map[string]func() error{
		"CreateIndexed":  func() error { return s.CreateIndexed(t.Context(), "id", "", exp, writeString("v")) },
		"ReplaceIndexed": func() error { return s.ReplaceIndexed(t.Context(), "id", "", exp, writeString("v")) },
	} {
		if err := call(); err == nil || errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("%s with the empty index key on a dead server = %v, want a network error", name, err)
		}
	}
	if dials.Load() == 0 {
		t.Error("the empty index key was refused before the network")
	}
	if got := nullString(""); got != nil {
		t.Errorf("nullString(\"\") = %v, want nil (NULL)", got)
	}
}

// TestLongTableNamesGetDistinctIndexNames: PostgreSQL cuts names at 63
// bytes, so two long table names with a common prefix would share index
// names, and CREATE INDEX IF NOT EXISTS would skip the second table's.
func TestLongTableNamesGetDistinctIndexNames(t *testing.T) {
	a := strings.Repeat("t", 55) + "_a"
	b := strings.Repeat("t", 55) + "_b"
	seen := map[string]string{}
	for _, table := range []string{a, b, "sessions", strings.Repeat("x", maxIdentifierLength)} {
		for _, suffix := range []string{"_expires_at_idx", "_index_key_idx"} {
			name := indexName(table, suffix)
			if len(name) > maxIdentifierLength {
				t.Errorf("indexName(%q, %q) = %q, %d bytes, over %d", table, suffix, name, len(name), maxIdentifierLength)
			}
			if !strings.HasSuffix(name, suffix) {
				t.Errorf("indexName(%q, %q) = %q, which lost the suffix", table, suffix, name)
			}
			if other, dup := seen[name]; dup {
				t.Errorf("tables %q and %q both get the index name %q", other, table, name)
			}
			seen[name] = table
		}
	}
	if got := indexName("sessions", "_index_key_idx"); got != "sessions_index_key_idx" {
		t.Errorf("a short table's index name = %q, want the plain sessions_index_key_idx", got)
	}
}

// TestIndexStatementsCarryTheIndexKey: every statement that stores a row
// sets index_key, so no write leaves a filing of an earlier one behind.
func TestIndexStatementsCarryTheIndexKey(t *testing.T) {
	s, _ := offlineStore(t, WithTable("app.Sessions"))
	for name, q := range map[string]string{
		"Write": s.sqlWrite, "Create": s.conditional.create, "Replace": s.conditional.replace, "ReadIndex": s.sqlReadIndex,
	} {
		if !strings.Contains(q, "index_key") {
			t.Errorf("the %s statement %q does not name index_key", name, q)
		}
		if !strings.Contains(q, `"app"."Sessions"`) {
			t.Errorf("the %s statement %q does not use the quoted table name", name, q)
		}
	}
	if !strings.Contains(s.sqlWrite, "index_key = NULL") {
		t.Errorf("Write's upsert %q does not clear index_key", s.sqlWrite)
	}
	if s.keyIndex != `"Sessions_index_key_idx"` {
		t.Errorf("index_key index name = %s, want \"Sessions_index_key_idx\"", s.keyIndex)
	}
}
