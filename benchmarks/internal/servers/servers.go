// Package servers gives the sessionbench command the Redis and PostgreSQL
// servers of the test harness (storagetest/containers) outside a test.
//
// The harness takes a testing.TB, which it uses to register the removal of
// its containers, to log, and to skip or fail when no server can be had.
// Harness adapts those calls for a command: a skip or a failure becomes
// the reason a server is unavailable, logs go where the command says, and
// the removals run when the command calls Close, also after an interrupt.
package servers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// Harness is a testing.TB for the container harness, for use outside
// tests. Its zero value is not usable; make one with New.
//
// Only the methods the harness uses are implemented. Any other method of
// testing.TB panics; Get turns that panic into an unavailable server
// rather than a crash. A Harness is safe for concurrent use.
type Harness struct {
	// testing.TB is embedded, nil, only to satisfy the interface's
	// unexported method; Harness overrides every method it supports.
	testing.TB

	name string
	logf func(format string, args ...any)
	ctx  context.Context

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	skipped  bool
	closed   bool
}

// New returns a Harness named name (containers are labelled with it) that
// sends the harness's log lines to logf; a nil logf discards them.
func New(ctx context.Context, name string, logf func(format string, args ...any)) *Harness {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Harness{name: name, logf: logf, ctx: ctx}
}

// stop is the panic value with which Skip and FailNow end the harness call
// in progress, as runtime.Goexit ends a test.
type stop struct {
	skip bool
	msg  string
}

// Get calls get (containers.Redis or containers.Postgres, say) with h and
// returns its result. When the harness skips or fails instead (no
// container engine, no image, a server that does not start), Get returns
// "" and the reason; required reports whether the harness failed rather
// than skipped, which it does when containers.EnvRequireServers is set.
func (h *Harness) Get(get func(testing.TB) string) (value, reason string, required bool) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		value = ""
		switch s := r.(type) {
		case stop:
			reason, required = s.msg, !s.skip
		default:
			reason = fmt.Sprintf("the container harness called something a command cannot provide: %v", r)
		}
	}()
	return get(h), "", false
}

// Close runs the registered cleanups, the last registered first, as the
// testing package does at the end of a test: it removes the containers.
// A panicking cleanup (the harness fails a test whose container could not
// be removed) does not stop the others. Close may be called more than
// once; later calls do nothing.
func (h *Harness) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	cs := h.cleanups
	h.cleanups = nil
	h.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if r := recover(); r != nil {
					h.logf("cleanup: %v", r)
				}
			}()
			cs[i]()
		}()
	}
}

// Name implements testing.TB.
func (h *Harness) Name() string { return h.name }

// Helper implements testing.TB; it does nothing.
func (h *Harness) Helper() {}

// Context implements testing.TB: the context given to New.
func (h *Harness) Context() context.Context { return h.ctx }

// Cleanup implements testing.TB: f runs in Close.
func (h *Harness) Cleanup(f func()) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		// Registered after Close: run at once rather than never.
		f()
		return
	}
	h.cleanups = append(h.cleanups, f)
	h.mu.Unlock()
}

// Log implements testing.TB.
func (h *Harness) Log(args ...any) { h.logf("%s", strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }

// Logf implements testing.TB.
func (h *Harness) Logf(format string, args ...any) { h.logf(format, args...) }

// Error implements testing.TB: it logs and marks h failed.
func (h *Harness) Error(args ...any) { h.Log(args...); h.Fail() }

// Errorf implements testing.TB: it logs and marks h failed.
func (h *Harness) Errorf(format string, args ...any) { h.Logf(format, args...); h.Fail() }

// Fail implements testing.TB.
func (h *Harness) Fail() {
	h.mu.Lock()
	h.failed = true
	h.mu.Unlock()
}

// Failed implements testing.TB.
func (h *Harness) Failed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed
}

// FailNow implements testing.TB: it marks h failed and ends the call in
// progress in Get.
func (h *Harness) FailNow() {
	h.Fail()
	panic(stop{msg: "the container harness failed"})
}

// Fatal implements testing.TB: it marks h failed and ends the call in
// progress in Get, with the message as the reason Get returns.
func (h *Harness) Fatal(args ...any) {
	h.Fail()
	panic(stop{msg: strings.TrimSuffix(fmt.Sprintln(args...), "\n")})
}

// Fatalf implements testing.TB, as Fatal.
func (h *Harness) Fatalf(format string, args ...any) {
	h.Fail()
	panic(stop{msg: fmt.Sprintf(format, args...)})
}

// Skip implements testing.TB: it ends the call in progress in Get, with
// the message as the reason.
func (h *Harness) Skip(args ...any) {
	h.SkipNowWith(strings.TrimSuffix(fmt.Sprintln(args...), "\n"))
}

// Skipf implements testing.TB, as Skip.
func (h *Harness) Skipf(format string, args ...any) { h.SkipNowWith(fmt.Sprintf(format, args...)) }

// SkipNow implements testing.TB, as Skip without a message.
func (h *Harness) SkipNow() { h.SkipNowWith("skipped") }

// SkipNowWith marks h skipped and ends the call in progress in Get with
// msg as the reason.
func (h *Harness) SkipNowWith(msg string) {
	h.mu.Lock()
	h.skipped = true
	h.mu.Unlock()
	panic(stop{skip: true, msg: msg})
}

// Skipped implements testing.TB.
func (h *Harness) Skipped() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.skipped
}

// TempDir implements testing.TB: a new folder, removed by Close.
func (h *Harness) TempDir() string {
	dir, err := os.MkdirTemp("", "sessionbench-")
	if err != nil {
		h.Fatalf("TempDir: %v", err)
	}
	h.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Setenv implements testing.TB: it sets the variable for the process and
// restores it in Close.
func (h *Harness) Setenv(key, value string) {
	old, had := os.LookupEnv(key)
	if err := os.Setenv(key, value); err != nil {
		h.Fatalf("Setenv: %v", err)
	}
	h.Cleanup(func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	})
}

// Servers are the addresses the command runs against.
type Servers struct {
	RedisAddr, PostgresDSN string
	// RedisReason and PostgresReason say why a server is unavailable, ""
	// when it is available or was not asked for.
	RedisReason, PostgresReason string
	// Required is set when the harness failed instead of skipping:
	// containers.EnvRequireServers is set and a server is missing.
	Required bool
}

// Start gets the servers asked for through h: the addresses of
// containers.EnvRedisAddr and containers.EnvPostgresDSN when set, else
// containers the harness starts.
func Start(h *Harness, redis, postgres bool) Servers {
	var s Servers
	var req bool
	if redis {
		s.RedisAddr, s.RedisReason, req = h.Get(containers.Redis)
		s.Required = s.Required || req
	}
	if postgres {
		s.PostgresDSN, s.PostgresReason, req = h.Get(containers.Postgres)
		s.Required = s.Required || req
	}
	return s
}
