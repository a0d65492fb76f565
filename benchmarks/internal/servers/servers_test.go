package servers

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

func TestGetTurnsSkipsAndFailuresIntoReasons(t *testing.T) {
	tests := []struct {
		name         string
		get          func(testing.TB) string
		value        string
		reason       string
		required     bool
		failed, skip bool
	}{
		{"value", func(testing.TB) string { return "127.0.0.1:6379" }, "127.0.0.1:6379", "", false, false, false},
		{"skip", func(tb testing.TB) string { tb.Skipf("no engine: %s", "down"); return "unreached" }, "", "no engine: down", false, false, true},
		{"fatal", func(tb testing.TB) string { tb.Fatalf("required: %d", 1); return "unreached" }, "", "required: 1", true, true, false},
		{"fail now", func(tb testing.TB) string { tb.Errorf("x"); tb.FailNow(); return "unreached" }, "", "the container harness failed", true, true, false},
		{"unsupported method", func(tb testing.TB) string { tb.Chdir("/"); return "unreached" }, "", "cannot provide", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(t.Context(), "test", nil)
			defer h.Close()
			value, reason, required := h.Get(tt.get)
			if value != tt.value || !strings.Contains(reason, tt.reason) || (tt.reason == "" && reason != "") || required != tt.required {
				t.Errorf("Get = %q, %q, %v; want %q, a reason containing %q, %v", value, reason, required, tt.value, tt.reason, tt.required)
			}
			if h.Failed() != tt.failed || h.Skipped() != tt.skip {
				t.Errorf("Failed %v, Skipped %v; want %v, %v", h.Failed(), h.Skipped(), tt.failed, tt.skip)
			}
		})
	}
}

func TestCloseRunsCleanupsLastFirstDespitePanics(t *testing.T) {
	var logged []string
	h := New(context.Background(), "test", func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) })
	var order []int
	h.Cleanup(func() { order = append(order, 1) })
	h.Cleanup(func() { order = append(order, 2); h.Errorf("could not remove"); h.FailNow() })
	h.Cleanup(func() { order = append(order, 3) })
	h.Close()
	if !slices.Equal(order, []int{3, 2, 1}) {
		t.Errorf("cleanups ran in order %v, want [3 2 1]", order)
	}
	if len(logged) == 0 {
		t.Error("the panicking cleanup was not logged")
	}
	h.Close() // a second Close runs nothing again
	if len(order) != 3 {
		t.Errorf("a second Close ran cleanups again: %v", order)
	}
	ran := false
	h.Cleanup(func() { ran = true })
	if !ran {
		t.Error("a cleanup registered after Close never ran")
	}
}

func TestTempDirAndSetenvAreUndoneByClose(t *testing.T) {
	const key = "SESSIONBENCH_SERVERS_TEST"
	h := New(context.Background(), "test", nil)
	dir := h.TempDir()
	h.Setenv(key, "set")
	if os.Getenv(key) != "set" {
		t.Fatal("Setenv did not set the variable")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, had := os.LookupEnv(key); had {
		t.Error("Close did not unset the variable")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left the temp dir: %v", err)
	}
}

func TestStartUsesTheAddressesGiven(t *testing.T) {
	// With the variables set, the harness returns them and starts nothing,
	// so this needs no container engine.
	t.Setenv(containers.EnvRedisAddr, "127.0.0.1:1")
	t.Setenv(containers.EnvPostgresDSN, "postgres://x@127.0.0.1:1/db")
	h := New(t.Context(), "test", nil)
	defer h.Close()
	s := Start(h, true, false)
	if s.RedisAddr != "127.0.0.1:1" || s.PostgresDSN != "" || s.RedisReason != "" || s.Required {
		t.Errorf("Start(redis only) = %+v; want the Redis address and nothing else", s)
	}
	s = Start(h, false, true)
	if s.PostgresDSN != "postgres://x@127.0.0.1:1/db" || s.RedisAddr != "" {
		t.Errorf("Start(postgres only) = %+v", s)
	}
}
