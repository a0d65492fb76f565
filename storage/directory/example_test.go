package directory_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/directory"
)

// The basic cycle: write a session, read it back, invalidate it.
func Example() {
	root, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	store, err := directory.New(root)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	id := sessions.NewID()
	err = store.Write(ctx, id, time.Now().Add(24*time.Hour), func(w io.Writer) error {
		_, err := io.WriteString(w, `{"user":"ann"}`)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	err = store.Read(ctx, id, func(r io.Reader) error {
		b, err := io.ReadAll(r)
		fmt.Println(string(b))
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	if err := store.Invalidate(ctx, id); err != nil {
		log.Fatal(err)
	}
	err = store.Read(ctx, id, func(io.Reader) error { return nil })
	fmt.Println(errors.Is(err, sessions.ErrNotFound))
	// Output:
	// {"user":"ann"}
	// true
}

// New with every option, and where the entries of two ids that differ
// only in case end up: "Ab" in folder 20 as 85h0, "ab" in folder a7 as
// c5h0. One level of fan-out folders, and names that stay apart on
// case-insensitive file systems.
func ExampleNew() {
	root, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	store, err := directory.New(filepath.Join(root, "store"),
		directory.WithFileMode(0o600),               // the default
		directory.WithDirMode(0o700),                // the default
		directory.WithSync(true),                    // survive power loss; default false
		directory.WithSweepInterval(10*time.Minute), // default one hour; 0 disables
		directory.WithSweepErrorHandler(func(err error) { log.Print(err) }),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	for _, id := range []string{"Ab", "ab"} {
		if err := store.Write(ctx, id, time.Time{}, func(w io.Writer) error { return nil }); err != nil {
			log.Fatal(err)
		}
	}
	filepath.WalkDir(store.Root(), func(p string, d fs.DirEntry, err error) error {
		// Names starting with a dot are the folders' lock files and
		// temporary files, never entries.
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			rel, _ := filepath.Rel(store.Root(), p)
			fmt.Println(filepath.ToSlash(rel))
		}
		return err
	})
	// Output:
	// 20/85h0
	// a7/c5h0
}

// Touch slides a session's expiry without rewriting its content.
func ExampleStore_Touch() {
	root, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	store, err := directory.New(root)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	id := sessions.NewID()
	store.Write(ctx, id, time.Now().Add(time.Minute), func(w io.Writer) error {
		_, err := io.WriteString(w, "content")
		return err
	})
	fmt.Println(store.Touch(ctx, id, time.Now().Add(24*time.Hour)))
	fmt.Println(errors.Is(store.Touch(ctx, "unknown", time.Now()), sessions.ErrNotFound))
	// Output:
	// <nil>
	// true
}

// List yields the live ids; DeleteExpired removes the expired files, which
// already read as absent.
func ExampleStore_DeleteExpired() {
	root, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	// Sweep by hand only.
	store, err := directory.New(root, directory.WithSweepInterval(0))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	write := func(id string, expires time.Time) {
		err := store.Write(ctx, id, expires, func(w io.Writer) error { return nil })
		if err != nil {
			log.Fatal(err)
		}
	}
	write("live", time.Now().Add(time.Hour))
	write("gone", time.Now().Add(-time.Second))

	for id, err := range store.List(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("listed:", id)
	}
	n, err := store.DeleteExpired(ctx)
	fmt.Println("removed:", n, err)
	// Output:
	// listed: live
	// removed: 1 <nil>
}
