package redis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
)

// The examples need a Redis server, so they are compiled but not run.

func ExampleNew() {
	client := goredis.NewClient(&goredis.Options{
		Addr: "localhost:6379",
		// Let each call's context deadline bound its network I/O.
		ContextTimeoutEnabled: true,
	})
	defer client.Close() // the Store never closes the client

	store, err := redis.New(client, redis.WithPrefix("myapp:session:"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// Hand the store to the middleware: only the session id travels in
	// the cookie, the value lives in Redis.
	var _ sessions.Storage = store

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	id := sessions.NewID()
	err = store.Write(ctx, id, time.Now().Add(time.Hour), func(w io.Writer) error {
		_, err := io.WriteString(w, "user=ann")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	err = store.Read(ctx, id, func(r io.Reader) error {
		b, err := io.ReadAll(r)
		fmt.Printf("%s\n", b)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleNew_cluster() {
	// A Cluster client: every operation goes to the master owning the
	// key's slot, and List scans every master.
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redis.New(client)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
}

func ExampleNew_sentinel() {
	// A primary managed by Sentinel: go-redis follows failovers.
	client := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:            "sessions",
		SentinelAddrs:         []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redis.New(client)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
}

func ExampleStore_Touch() {
	client := goredis.NewClient(&goredis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redis.New(client)
	if err != nil {
		log.Fatal(err)
	}

	// Sliding expiry: move the deadline without rewriting the session.
	err = store.Touch(context.Background(), "0123abcd", time.Now().Add(30*time.Minute))
	switch {
	case err == nil:
		fmt.Println("extended")
	case errors.Is(err, sessions.ErrNotFound):
		fmt.Println("gone: log in again")
	default:
		log.Print(err) // Redis unreachable: not the same as "no session"
	}
}

func ExampleStore_List() {
	client := goredis.NewClient(&goredis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redis.New(client, redis.WithPrefix("myapp:session:"))
	if err != nil {
		log.Fatal(err)
	}

	n := 0
	for _, err := range store.List(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Println(n, "live sessions")
}
