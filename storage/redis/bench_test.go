package redis_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
)

// BenchmarkClientOverhead measures what the Store adds on the client side,
// without a network: a hook answers every command at once, so Raw is
// go-redis's own cost and Store/Raw is the overhead of the Store (id check,
// key building, buffering). The integration module compares both against a
// real server.
func BenchmarkClientOverhead(b *testing.B) {
	payload := bytes.Repeat([]byte("s"), 1024)
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	// The Store's values start with a frame: one zero byte for an entry
	// filed under no index key.
	value := "\x00" + string(payload)
	client.AddHook(instantServer{value: value})
	b.Cleanup(func() { client.Close() })
	s := mustNew(b, client)
	id := sessions.NewID()
	key := redis.DefaultPrefix + id
	ctx := b.Context()
	b.Run("Read/Raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if v, err := client.Get(ctx, key).Result(); err != nil || len(v) != len(value) {
				b.Fatal(err)
			}
		}
	})
	b.Run("Read/Store", func(b *testing.B) {
		b.ReportAllocs()
		read := func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
		for b.Loop() {
			if err := s.Read(ctx, id, read); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Write/Raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := client.Set(ctx, key, payload, time.Hour+time.Millisecond).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Write/Store", func(b *testing.B) {
		b.ReportAllocs()
		write := func(w io.Writer) error { _, err := w.Write(payload); return err }
		for b.Loop() {
			if err := s.Write(ctx, id, time.Now().Add(time.Hour), write); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// instantServer is a go-redis hook that answers GET with value and SET with
// OK without sending anything.
type instantServer struct{ value string }

func (instantServer) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h instantServer) ProcessHook(goredis.ProcessHook) goredis.ProcessHook {
	return func(_ context.Context, cmd goredis.Cmder) error {
		switch c := cmd.(type) {
		case *goredis.StatusCmd:
			c.SetVal("OK")
		case *goredis.StringCmd:
			c.SetVal(h.value)
		}
		return nil
	}
}

func (instantServer) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
