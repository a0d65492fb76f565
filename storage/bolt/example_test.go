package bolt_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/storage/bolt"
	"go.etcd.io/bbolt"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The Store owns the file: Close closes it.
	store, err := bolt.Open(filepath.Join(dir, "sessions.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	err = store.Write(ctx, "3f2a9c", time.Now().Add(7*24*time.Hour), func(w io.Writer) error {
		_, err := io.WriteString(w, `{"user":"ann"}`)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	err = store.Read(ctx, "3f2a9c", func(r io.Reader) error {
		b, err := io.ReadAll(r)
		fmt.Println(string(b))
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	// A second Store (or process) on the same file fails after the lock
	// timeout instead of hanging.
	_, err = bolt.Open(filepath.Join(dir, "sessions.db"), bolt.WithLockTimeout(100*time.Millisecond))
	fmt.Println(strings.Contains(err.Error(), "locked"))
	// Output:
	// {"user":"ann"}
	// true
}

func ExampleNew() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The application opens the database and keeps its own buckets in it.
	db, err := bbolt.Open(filepath.Join(dir, "app.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store, err := bolt.New(db, bolt.WithBucket("sessions"), bolt.WithSweepInterval(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	err = store.Write(ctx, "3f2a9c", time.Time{}, func(w io.Writer) error {
		_, err := io.WriteString(w, "hello")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// Close stops the Store but leaves db open for the application.
	if err := store.Close(); err != nil {
		log.Fatal(err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket([]byte("sessions")).Get([]byte("3f2a9c"))
		fmt.Printf("%d-byte expiry header, then %q\n", len(v)-len("hello"), v[8:])
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// 8-byte expiry header, then "hello"
}
