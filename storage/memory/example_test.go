package memory_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/memory"
)

func write(s sessions.Storage, id, value string, expires time.Time) {
	err := s.Write(context.Background(), id, expires, func(w io.Writer) error {
		_, err := io.WriteString(w, value)
		return err
	})
	if err != nil {
		panic(err)
	}
}

func read(s sessions.Storage, id string) string {
	var got string
	err := s.Read(context.Background(), id, func(r io.Reader) error {
		b, err := io.ReadAll(r)
		got = string(b)
		return err
	})
	if err != nil {
		return err.Error()
	}
	return got
}

func ExampleNew() {
	store := memory.New()
	defer store.Close()

	write(store, "session-1", `{"user":"ann"}`, time.Now().Add(time.Hour))
	fmt.Println(read(store, "session-1"))

	err := store.Read(context.Background(), "unknown", func(io.Reader) error { return nil })
	fmt.Println(errors.Is(err, sessions.ErrNotFound))
	// Output:
	// {"user":"ann"}
	// true
}

// Entries expire at the time given to Write; an expired entry is never
// served, even before the sweeper removes it.
func ExampleStore_Write_expiry() {
	store := memory.New()
	defer store.Close()

	write(store, "short", "gone soon", time.Now().Add(20*time.Millisecond))
	write(store, "forever", "stays", time.Time{}) // the zero Time: never expires
	time.Sleep(50 * time.Millisecond)

	fmt.Println(read(store, "short"))
	fmt.Println(read(store, "forever"))
	// Output:
	// sessions: not found
	// stays
}

// Touch moves the expiry without rewriting the value: sliding sessions.
func ExampleStore_Touch() {
	store := memory.New()
	defer store.Close()
	ctx := context.Background()

	write(store, "session-1", "data", time.Now().Add(time.Minute))
	if err := store.Touch(ctx, "session-1", time.Now().Add(24*time.Hour)); err != nil {
		panic(err)
	}
	err := store.Touch(ctx, "unknown", time.Now().Add(time.Hour))
	fmt.Println(errors.Is(err, sessions.ErrNotFound))
	// Output:
	// true
}

func ExampleStore_List() {
	store := memory.New()
	defer store.Close()

	for _, id := range []string{"b", "a", "c"} {
		write(store, id, "data", time.Time{})
	}
	var ids []string
	for id, err := range store.List(context.Background()) {
		if err != nil {
			panic(err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids) // List yields in no particular order
	fmt.Println(ids)
	// Output:
	// [a b c]
}

// With a bound, the entries closest to their expiry make room first.
func ExampleWithMaxEntries() {
	store := memory.New(memory.WithMaxEntries(2))
	defer store.Close()
	now := time.Now()

	write(store, "week", "data", now.Add(7*24*time.Hour))
	write(store, "hour", "data", now.Add(time.Hour))
	write(store, "day", "data", now.Add(24*time.Hour)) // evicts "hour"

	for _, id := range []string{"week", "hour", "day"} {
		fmt.Println(id, read(store, id))
	}
	// Output:
	// week data
	// hour sessions: not found
	// day data
}

func ExampleWithMaxBytes() {
	store := memory.New(memory.WithMaxBytes(1 << 10))
	defer store.Close()

	err := store.Write(context.Background(), "big", time.Time{}, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 2<<10))
		return err
	})
	fmt.Println(errors.Is(err, sessions.ErrTooLarge))
	// Output:
	// true
}
