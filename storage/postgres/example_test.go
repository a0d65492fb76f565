package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/postgres"
)

func ExampleNew() {
	// Needs a PostgreSQL server, so it is compiled but not run.
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@localhost:5432/app?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close() // the Store never closes the pool

	// Creates the table and index if missing and sweeps expired rows
	// every 5 minutes until Close.
	store, err := postgres.New(ctx, pool, postgres.WithTable("app.sessions"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// Hand the store to the middleware: only the session id travels in
	// the cookie, the value lives in the table.
	var _ sessions.Storage = store

	id := sessions.NewID()
	err = store.Write(ctx, id, time.Now().Add(time.Hour), func(w io.Writer) error {
		_, err := io.WriteString(w, "user=ann")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleStore_DeleteExpired() {
	// Needs a PostgreSQL server, so it is compiled but not run.
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@localhost:5432/app?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	// Sweep on your own schedule (a cron job, one leader) instead of in
	// every instance.
	store, err := postgres.New(ctx, pool, postgres.WithSweepInterval(0))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	n, err := store.DeleteExpired(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("removed", n, "expired sessions")
}

func ExampleTableSQL() {
	// For migrations, with WithCreateTable(false).
	ddl, err := postgres.TableSQL("app.sessions")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(ddl)
	// Output:
	// CREATE TABLE IF NOT EXISTS "app"."sessions" (
	// 	id         text COLLATE "C" NOT NULL,
	// 	data       bytea NOT NULL,
	// 	expires_at timestamptz NULL,
	// 	index_key  text COLLATE "C" NULL,
	// 	PRIMARY KEY (id) INCLUDE (expires_at)
	// );
	// ALTER TABLE "app"."sessions" ADD COLUMN IF NOT EXISTS index_key text COLLATE "C" NULL;
	// CREATE INDEX IF NOT EXISTS "sessions_expires_at_idx" ON "app"."sessions" (expires_at);
	// CREATE INDEX IF NOT EXISTS "sessions_index_key_idx" ON "app"."sessions" (index_key, id) WHERE index_key IS NOT NULL;
}
