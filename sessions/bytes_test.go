package sessions_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

type (
	touchOnly struct{ sessions.ByteStorage }
	listOnly  struct{ sessions.ByteStorage }
	sweepOnly struct{ sessions.ByteStorage }
	closeOnly struct{ sessions.ByteStorage }
	touchList struct {
		sessions.ByteStorage
		touchOnly
		listOnly
	}
	sweepClose struct {
		sessions.ByteStorage
		sweepOnly
		closeOnly
	}
	allCaps struct {
		sessions.ByteStorage
		touchOnly
		listOnly
		sweepOnly
		closeOnly
	}
)

func (touchOnly) Touch(context.Context, string, time.Time) error { return nil }
func (listOnly) List(context.Context) iter.Seq2[string, error] {
	return func(func(string, error) bool) {}
}
func (sweepOnly) DeleteExpired(context.Context) (int, error) { return 0, nil }
func (closeOnly) Close() error                               { return nil }

func TestFromBytesPromisesExactlyTheCapabilitiesItHas(t *testing.T) {
	var b sessions.ByteStorage = newMapStore()
	cases := []struct {
		name                         string
		s                            sessions.ByteStorage
		touch, list, sweep, closable bool
	}{
		{"none", b, false, false, false, false},
		{"Toucher", touchOnly{b}, true, false, false, false},
		{"Lister", listOnly{b}, false, true, false, false},
		{"Sweeper", sweepOnly{b}, false, false, true, false},
		{"Closer", closeOnly{b}, false, false, false, true},
		{"Toucher and Lister", touchList{b, touchOnly{b}, listOnly{b}}, true, true, false, false},
		{"Sweeper and Closer", sweepClose{b, sweepOnly{b}, closeOnly{b}}, false, false, true, true},
		{"all", allCaps{b, touchOnly{b}, listOnly{b}, sweepOnly{b}, closeOnly{b}}, true, true, true, true},
	}
	for _, tc := range cases {
		got := sessions.FromBytes(tc.s)
		_, touch := got.(sessions.Toucher)
		_, list := got.(sessions.Lister)
		_, sweep := got.(sessions.Sweeper)
		_, closable := got.(io.Closer)
		if touch != tc.touch || list != tc.list || sweep != tc.sweep || closable != tc.closable {
			t.Errorf("%s: FromBytes result is Toucher %v, Lister %v, Sweeper %v, Closer %v; want %v %v %v %v",
				tc.name, touch, list, sweep, closable, tc.touch, tc.list, tc.sweep, tc.closable)
		}
	}
}

func TestFromBytesFailingWriterNeverReachesTheStorage(t *testing.T) {
	backing := newMapStore()
	s := sessions.FromBytes(backing)
	ctx := t.Context()
	if err := s.Write(ctx, "id", time.Time{}, func(w io.Writer) error { _, err := io.WriteString(w, "old"); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.Write(ctx, "id", time.Time{}, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v; want the writer's error", err)
	}
	var got strings.Builder
	if err := s.Read(ctx, "id", func(r io.Reader) error { _, err := io.Copy(&got, r); return err }); err != nil || got.String() != "old" {
		t.Fatalf("Read after a failing write = %q, %v; want the old content", got.String(), err)
	}
	if _, saves, _, _ := backing.counts(); saves != 1 {
		t.Fatalf("%d Saves; want only the successful one", saves)
	}
	for _, op := range []func() error{
		func() error { return s.Write(ctx, "../x", time.Time{}, func(io.Writer) error { return nil }) },
		func() error { return s.Read(ctx, "a/b", func(io.Reader) error { return nil }) },
		func() error { return s.Invalidate(ctx, "") },
	} {
		if err := op(); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("invalid id: %v; want ErrInvalidID", err)
		}
	}
	if loads, saves, deletes, _ := backing.counts(); loads+saves+deletes != 2 {
		t.Fatalf("invalid ids reached the ByteStorage (%d calls)", loads+saves+deletes-2)
	}
}

func TestWriteBufferedCommitsOnlyWhatSucceeded(t *testing.T) {
	boom := errors.New("boom")
	var committed []string
	commit := func(data []byte) error {
		if data == nil {
			t.Error("commit got a nil slice; want empty, never nil")
		}
		committed = append(committed, string(data))
		return nil
	}
	var kept io.Writer
	cases := []struct {
		name  string
		write func(io.Writer) error
		err   error
	}{
		{"whole value", func(w io.Writer) error { _, err := io.WriteString(w, "abc"); return err }, nil},
		{"empty value", func(w io.Writer) error { return nil }, nil},
		{"failing writer", func(w io.Writer) error { io.WriteString(w, "half"); return boom }, boom},
		{"writer kept", func(w io.Writer) error { kept = w; return nil }, nil},
	}
	for _, tc := range cases {
		if err := sessions.WriteBuffered(tc.write, commit); !errors.Is(err, tc.err) {
			t.Errorf("%s: WriteBuffered = %v; want %v", tc.name, err, tc.err)
		}
	}
	if want := []string{"abc", "", ""}; strings.Join(committed, "|") != strings.Join(want, "|") {
		t.Fatalf("committed %q; want %q (nothing from the failing writer)", committed, want)
	}
	if _, err := kept.Write([]byte("late")); !errors.Is(err, sessions.ErrWriterDone) {
		t.Fatalf("a kept writer wrote after its function returned: %v; want ErrWriterDone", err)
	}
}
