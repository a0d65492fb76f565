package bench

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A short scale run of the backends that need no server must measure
// what their media hold, whatever the machine's speed: these invariants
// are about bytes and counts, never about time.
func TestScaleShortRunMeasuresWhatTheStoresHold(t *testing.T) {
	subjects, err := SelectScaleSubjects(ScaleSubjects(), "memory,directory,bolt")
	if err != nil {
		t.Fatal(err)
	}
	// A hang detector: a run that deadlocks fails here instead of at the
	// test binary's timeout.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	counts := []int{200, 600}
	opts := ScaleOptions{
		Counts:      counts,
		Concurrency: 2,
		Rounds:      1,
		Run:         RunOptions{Duration: 10 * time.Millisecond},
		ExpireAfter: 20 * time.Millisecond,
		TempDir:     t.TempDir(),
	}
	results, skipped, err := RunScale(ctx, subjects, opts)
	if err != nil {
		t.Fatalf("RunScale: %v", err)
	}
	if len(skipped) != 0 || len(results) != len(subjects)*len(counts) {
		t.Fatalf("%d results and %d skipped, want %d results and none skipped", len(results), len(skipped), len(subjects)*len(counts))
	}
	for _, r := range results {
		t.Run(r.Kind+"/"+FormatCount(r.N), func(t *testing.T) {
			if r.Failed() {
				t.Fatalf("the step failed: %s", r.Err)
			}
			if r.Elapsed <= 0 || r.Fill <= 0 || r.Fill > r.Elapsed {
				t.Errorf("step took %v, its fill %v: want both measured, the fill within the step", r.Elapsed, r.Fill)
			}
			n := int64(r.N)
			per, ok := PerSession(r.Kind, r.Empty, r.Live, r.N)
			if !ok || per < ScalePayloadBytes {
				t.Errorf("%.0f bytes per session (ok %v), want at least the %d-byte payload", per, ok, ScalePayloadBytes)
			}
			switch r.Kind {
			case KindMemory:
				if r.Live.HeapBytes <= r.Empty.HeapBytes {
					t.Errorf("heap %d with %d sessions, not above the empty store's %d", r.Live.HeapBytes, r.N, r.Empty.HeapBytes)
				}
			case KindDirectory:
				// The header is 24 bytes: every entry file is longer than
				// its payload.
				if r.Live.EntryFiles != n || r.Live.ApparentBytes < n*ScalePayloadBytes || r.Live.Dirs < 1 {
					t.Errorf("%d entry files of %d bytes in %d folders, want %d files of at least %d bytes", r.Live.EntryFiles,
						r.Live.ApparentBytes, r.Live.Dirs, r.N, n*ScalePayloadBytes)
				}
				if a := r.AfterChurn; a == nil || a.EntryFiles != n {
					t.Errorf("after the churn: %+v, want the %d live entry files only", a, r.N)
				}
			case KindBolt:
				if r.Live.FileBytes < n*ScalePayloadBytes || r.Live.TreeDepth < 1 || r.Live.PageSize < 512 {
					t.Errorf("file %d bytes, depth %d, page size %d; want at least %d bytes and a tree", r.Live.FileBytes,
						r.Live.TreeDepth, r.Live.PageSize, n*ScalePayloadBytes)
				}
				// bbolt never shrinks its file: the churn can only grow it.
				if a := r.AfterChurn; a == nil || a.FileBytes < r.Live.FileBytes {
					t.Errorf("after the churn: %+v, want a file at least as large as before (%d bytes)", a, r.Live.FileBytes)
				}
			}
			if r.List.Count != r.N {
				t.Errorf("List yielded %d ids, want %d", r.List.Count, r.N)
			}
			if r.Read.Ops == 0 || r.Write.Ops == 0 || r.Harness.Ops == 0 || r.Read.P99 < r.Read.P50 || r.Write.P99 < r.Write.P50 {
				t.Errorf("latencies read %+v, write %+v: want operations and ordered percentiles", r.Read, r.Write)
			}
			if r.IdleSweep == nil || r.IdleSweep.Count != 0 {
				t.Errorf("sweep with nothing expired: %+v, want one that removed nothing", r.IdleSweep)
			}
			half := r.N / 2
			if r.Sweep == nil || r.Sweep.Expired != half || r.Sweep.Sweep.Count != half || r.Sweep.Before.Ops == 0 {
				t.Errorf("sweep under requests: %+v, want %d expired and removed, with requests before it", r.Sweep, half)
			}
			if r.ChurnSweep == nil || r.ChurnSweep.Count != r.N-half {
				t.Errorf("second sweep: %+v, want %d removed", r.ChurnSweep, r.N-half)
			}
		})
	}
}

func TestScaleSkipsABackendWithoutItsServer(t *testing.T) {
	subjects, err := SelectScaleSubjects(ScaleSubjects(), "redis,postgres")
	if err != nil {
		t.Fatal(err)
	}
	results, skipped, err := RunScale(t.Context(), subjects, ScaleOptions{Counts: []int{10}, RedisReason: "no engine here"})
	if err != nil || len(results) != 0 || len(skipped) != 2 {
		t.Fatalf("RunScale = %d results, %d skipped, %v; want both skipped", len(results), len(skipped), err)
	}
	if skipped[1].Subject != "sessionkit/redis" || skipped[1].Reason != "no engine here" || skipped[0].Reason != "no Postgres server" {
		t.Errorf("skipped %+v, want Postgres without a server and Redis with the reason given", skipped)
	}
}

func TestSelectScaleSubjectsRejectsAnUnknownBackend(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"", []string{"sessionkit/memory", "sessionkit/directory", "sessionkit/bolt", "sessionkit/postgres", "sessionkit/redis"}},
		{"bolt, memory", []string{"sessionkit/memory", "sessionkit/bolt"}},
		{"sessionkit/redis", []string{"sessionkit/redis"}},
	} {
		got, err := SelectScaleSubjects(ScaleSubjects(), tc.filter)
		if err != nil {
			t.Errorf("SelectScaleSubjects(%q): %v", tc.filter, err)
			continue
		}
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("SelectScaleSubjects(%q) = %v, want %v", tc.filter, names, tc.want)
		}
	}
	if _, err := SelectScaleSubjects(ScaleSubjects(), "cache"); err == nil {
		t.Error("SelectScaleSubjects(cache) succeeded; the scale mode has no cache backend")
	}
}

func TestScaleIDsAreValidDistinctStorageKeys(t *testing.T) {
	seen := map[string]bool{}
	for i := range 1000 {
		id := ScaleID(i)
		if len(id) != 43 || seen[id] {
			t.Fatalf("ScaleID(%d) = %q: want 43 characters, never repeated", i, id)
		}
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("ScaleID(%d) = %q holds %q, outside the id alphabet", i, id, c)
			}
		}
		seen[id] = true
	}
	if scaleIDs(7, 8)[0] != ScaleID(7) {
		t.Error("scaleIDs and ScaleID disagree: the ids are not deterministic")
	}
}
