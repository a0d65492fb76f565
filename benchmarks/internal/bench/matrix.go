package bench

import (
	"context"
	"fmt"
	"os"
	"time"
)

// MatrixOptions configures RunMatrix.
type MatrixOptions struct {
	Workloads     []Workload
	Sizes         []Size
	Concurrencies []int
	Run           RunOptions
	// TempDir is where each subject's folder is made (and removed after
	// it); "" means os.TempDir().
	TempDir string
	// RedisAddr and PostgresDSN are the servers, "" for none.
	RedisAddr, PostgresDSN string
	// RedisReason and PostgresReason say why a server is missing; they
	// are the Reason of the subjects skipped for it.
	RedisReason, PostgresReason string
	// Progress, when not nil, receives a line after every cell and about
	// every skipped subject.
	Progress func(string)
}

// CellsPerSubject returns how many cells each subject runs.
func (o MatrixOptions) CellsPerSubject() int {
	return len(o.Workloads) * len(o.Sizes) * len(o.Concurrencies)
}

// RunMatrix runs every cell of opts on every subject, one subject at a
// time: it opens the subject in a fresh folder, populates each payload
// size and measures its cells, then closes the subject and removes the
// folder. A subject whose server is missing is skipped with the reason. A
// subject that fails to open, populate or run a cell has that failure in
// its Results (Err), so it shows as failed rather than disappearing; the
// other cells go on.
//
// RunMatrix returns early, with what it has, only when ctx ends; the
// error is then ctx's.
func RunMatrix(ctx context.Context, subjects []Subject, opts MatrixOptions) ([]Result, []Skipped, error) {
	var (
		results []Result
		skipped []Skipped
	)
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	total := 0
	for _, s := range subjects {
		if opts.missing(s.Needs) == "" {
			total += opts.CellsPerSubject()
		}
	}
	done := 0
	start := time.Now()
	perCell := opts.Run.Duration + opts.Run.Warmup

	for _, s := range subjects {
		if reason := opts.missing(s.Needs); reason != "" {
			skipped = append(skipped, Skipped{Subject: s.Name, Kind: s.Kind, Reason: reason})
			progress(fmt.Sprintf("skip %s: %s", s.Name, firstLine(reason)))
			continue
		}
		fail := func(cells []Cell, err error) {
			for _, c := range cells {
				results = append(results, Result{Subject: s.Name, Kind: s.Kind, Role: s.Role, Cell: c, Err: err.Error()})
			}
			done += len(cells)
			progress(fmt.Sprintf("%s: %d cells failed: %v", s.Name, len(cells), err))
		}
		dir, err := os.MkdirTemp(opts.TempDir, "sessionbench-")
		if err != nil {
			fail(opts.cells(opts.Sizes), err)
			continue
		}
		env := Env{Dir: dir, RedisAddr: opts.RedisAddr, PostgresDSN: opts.PostgresDSN}
		st, err := s.Open(ctx, env)
		if err != nil {
			os.RemoveAll(dir)
			fail(opts.cells(opts.Sizes), fmt.Errorf("open: %w", err))
			continue
		}
		for _, sz := range opts.Sizes {
			ids, payload := IDs(sz), Payload(sz.Bytes)
			if err := Populate(ctx, st, ids, payload, time.Now().Add(time.Hour)); err != nil {
				if ctx.Err() != nil {
					break
				}
				fail(opts.cells([]Size{sz}), err)
				continue
			}
			for _, c := range opts.cells([]Size{sz}) {
				if ctx.Err() != nil {
					break
				}
				m, err := Run(ctx, st, c, ids, payload, opts.Run)
				r := Result{Subject: s.Name, Kind: s.Kind, Role: s.Role, Cell: c, Measurement: m}
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					r.Err = err.Error()
				}
				results = append(results, r)
				done++
				left := time.Duration(total-done) * perCell
				line := fmt.Sprintf("[%d/%d, %s, ~%s left] %s %s: ", done, total,
					time.Since(start).Round(time.Second), left.Round(time.Second), s.Name, c)
				if r.Failed() {
					line += "failed: " + r.Err
				} else {
					line += fmt.Sprintf("%s ops/s, p50 %s, p99 %s, %s allocs/op",
						FormatRate(m.OpsPerSec), FormatDuration(m.P50), FormatDuration(m.P99), formatAllocs(m.AllocsPerOp))
				}
				progress(line)
			}
		}
		if err := st.Close(); err != nil {
			progress(fmt.Sprintf("%s: close: %v", s.Name, err))
		}
		os.RemoveAll(dir)
		if err := ctx.Err(); err != nil {
			return results, skipped, err
		}
	}
	return results, skipped, nil
}

// missing returns why server is unavailable, "" when it is available or
// not needed.
func (o MatrixOptions) missing(server Server) string {
	switch server {
	case RedisServer:
		if o.RedisAddr == "" {
			return nonEmpty(o.RedisReason, "no Redis server")
		}
	case PostgresServer:
		if o.PostgresDSN == "" {
			return nonEmpty(o.PostgresReason, "no Postgres server")
		}
	}
	return ""
}

// cells returns the cells of sizes, in the order they run.
func (o MatrixOptions) cells(sizes []Size) []Cell {
	var out []Cell
	for _, sz := range sizes {
		for _, wl := range o.Workloads {
			for _, c := range o.Concurrencies {
				out = append(out, Cell{Workload: wl, Size: sz, Concurrency: c})
			}
		}
	}
	return out
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
