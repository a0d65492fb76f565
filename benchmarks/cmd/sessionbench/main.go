// Command sessionbench runs the same storage workloads against every
// sessionkit backend, beside the raw driver each is built on and beside
// peer libraries' stores, measures what sessionkit's middleware adds to an
// HTTP request next to gorilla/sessions and scs, and writes a Markdown
// report, a JSON file and one SVG chart per workload.
//
// From the repository root:
//
//	go run ./benchmarks/cmd/sessionbench            # the full matrix, about 12 minutes on 2 cores
//	go run ./benchmarks/cmd/sessionbench -quick     # shorter cells, under 2 minutes
//	go run ./benchmarks/cmd/sessionbench -backends memory,redis -workloads Mix90 -duration 2s
//
// Redis and PostgreSQL come from the test harness (storagetest/containers):
// SESSIONKIT_REDIS_ADDR and SESSIONKIT_POSTGRES_DSN name existing servers;
// otherwise containers are started from SESSIONKIT_REDIS_IMAGE and
// SESSIONKIT_POSTGRES_IMAGE and removed at the end. Backends whose server
// is unavailable are reported as skipped, with the reason; with
// SESSIONKIT_REQUIRE_SERVERS=1 a missing server fails the run instead.
//
// "sessionbench scale" measures instead how each backend's footprint,
// latencies, List and sweeps grow with the number of live sessions (see
// the README's flags); its section of results.md comes from scale.json,
// which the storage run keeps when it rewrites results.md.
//
// The exit status is 1 when a cell failed, a required server was missing
// or the results could not be written, and 2 for bad flags.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/sessionkit/sessionkit/benchmarks/internal/bench"
	"github.com/sessionkit/sessionkit/benchmarks/internal/servers"
)

type config struct {
	backends, workloads, sizes, concurrency string
	duration, warmup                        time.Duration
	minOps                                  int
	quick                                   bool
	http                                    bool
	httpRounds                              int
	httpDuration                            time.Duration
	out, readme                             string
	verbose                                 bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "scale" {
		return runScale(args[1:], stderr)
	}
	fs := flag.NewFlagSet("sessionbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.backends, "backends", "all", "comma-separated store kinds (memory, directory, bolt, redis, postgres), subject names (sessionkit/memory, scs/memstore) or name parts (cache, raw, scs)")
	fs.StringVar(&c.workloads, "workloads", "", "comma-separated workloads: Read, Write, Mix90 (default all)")
	fs.StringVar(&c.sizes, "sizes", "", "comma-separated payload sizes: 128B, 4KiB, 64KiB (default all)")
	fs.StringVar(&c.concurrency, "concurrency", "1,8,64", "comma-separated numbers of goroutines")
	fs.DurationVar(&c.duration, "duration", time.Second, "measured time per cell")
	fs.DurationVar(&c.warmup, "warmup", 100*time.Millisecond, "unmeasured warm-up per cell")
	fs.IntVar(&c.minOps, "min-ops", 50, "operations a cell measures at least, running up to 3 more durations to get them (for stores that fsync)")
	fs.BoolVar(&c.quick, "quick", false, "short cells and HTTP rounds (-duration 80ms -warmup 20ms -http-rounds 3 -http-duration 100ms) unless those flags are given")
	fs.BoolVar(&c.http, "http", true, "run the HTTP middleware comparison")
	fs.IntVar(&c.httpRounds, "http-rounds", 5, "rounds of the HTTP comparison (medians are reported)")
	fs.DurationVar(&c.httpDuration, "http-duration", 300*time.Millisecond, "time per contender per HTTP round")
	fs.StringVar(&c.out, "out", "benchmarks/results", "folder the results are written to (relative to the current directory)")
	fs.StringVar(&c.readme, "readme", "", "a README whose text between "+bench.ReadmeBegin+" and "+bench.ReadmeEnd+" is replaced by the results")
	fs.BoolVar(&c.verbose, "v", false, "show the container harness's log")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sessionbench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if c.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			c.duration = 80 * time.Millisecond
		}
		if !set["warmup"] {
			c.warmup = 20 * time.Millisecond
		}
		if !set["http-rounds"] {
			c.httpRounds = 3
		}
		if !set["http-duration"] {
			c.httpDuration = 100 * time.Millisecond
		}
	}
	subjects, err := bench.SelectSubjects(bench.Subjects(), c.backends)
	if err == nil && (c.duration <= 0 || c.warmup < 0 || c.minOps < 0 || c.httpRounds < 1 || c.httpDuration <= 0) {
		err = fmt.Errorf("-duration and -http-duration must be positive, -warmup and -min-ops not negative, -http-rounds at least 1")
	}
	opts := bench.MatrixOptions{Run: bench.RunOptions{Duration: c.duration, Warmup: c.warmup, MinOps: c.minOps}}
	if err == nil {
		opts.Workloads, err = bench.ParseWorkloads(c.workloads)
	}
	if err == nil {
		opts.Sizes, err = bench.ParseSizes(c.sizes)
	}
	if err == nil {
		opts.Concurrencies, err = bench.ParseConcurrencies(c.concurrency)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionbench: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "sessionbench: "+format+"\n", args...) }
	start := time.Now()

	// Servers: only those a selected subject (or the HTTP comparison)
	// needs. The harness's containers are removed when run returns, also
	// after an interrupt.
	needRedis, needPostgres := c.http, false
	for _, s := range subjects {
		needRedis = needRedis || s.Needs == bench.RedisServer
		needPostgres = needPostgres || s.Needs == bench.PostgresServer
	}
	var harnessLog func(string, ...any)
	if c.verbose {
		harnessLog = func(format string, args ...any) { logf("containers: "+format, args...) }
	} else {
		tclog.SetDefault(quiet{})
	}
	if needRedis || needPostgres {
		logf("getting servers (Redis: %v, Postgres: %v)", needRedis, needPostgres)
	}
	srv := servers.Start(ctx, "sessionbench", needRedis, needPostgres, harnessLog)
	defer func() {
		if err := srv.Close(); err != nil {
			logf("removing the servers: %v", err)
		}
	}()
	for _, r := range []struct{ what, reason string }{{"Redis", srv.RedisReason}, {"Postgres", srv.PostgresReason}} {
		if r.reason != "" {
			logf("%s unavailable: %s", r.what, r.reason)
		}
	}
	if srv.Required {
		logf("a server is required (SESSIONKIT_REQUIRE_SERVERS) and missing; stopping")
		return 1
	}
	opts.RedisAddr, opts.PostgresDSN = srv.RedisAddr, srv.PostgresDSN
	opts.RedisReason, opts.PostgresReason = srv.RedisReason, srv.PostgresReason
	opts.Progress = func(line string) { logf("%s", line) }

	rep := &bench.Report{
		Date:          time.Now(),
		Command:       commandLine(args),
		Machine:       bench.DescribeMachine(),
		Duration:      c.duration,
		Warmup:        c.warmup,
		MinOps:        c.minOps,
		ClockCost:     bench.ClockCost(),
		Workloads:     opts.Workloads,
		Sizes:         opts.Sizes,
		Concurrencies: opts.Concurrencies,
		Unavailable:   bench.UnavailablePeers(),
	}
	logf("%d subjects × %d cells of %s + %s warm-up", len(subjects), opts.CellsPerSubject(), c.duration, c.warmup)
	rep.Results, rep.Skipped, err = bench.RunMatrix(ctx, subjects, opts)
	if err != nil {
		logf("interrupted: %v; nothing written", err)
		return 1
	}
	// Skipped subjects stay out of the tables; the report lists them.
	for _, s := range subjects {
		if !isSkipped(rep.Skipped, s.Name) {
			rep.Subjects = append(rep.Subjects, s.Info())
		}
	}

	if c.http {
		dir, err := os.MkdirTemp("", "sessionbench-http-")
		if err != nil {
			logf("HTTP comparison: %v", err)
			return 1
		}
		defer os.RemoveAll(dir)
		env := bench.Env{Dir: dir, RedisAddr: srv.RedisAddr}
		hopts := bench.HTTPOptions{Rounds: c.httpRounds, Duration: c.httpDuration, RedisReason: srv.RedisReason}
		rep.HTTP, err = bench.RunHTTP(ctx, env, hopts, func(line string) { logf("%s", line) })
		if err != nil {
			logf("HTTP comparison: %v", err)
			return 1
		}
	}
	rep.Elapsed = time.Since(start)

	if err := write(rep, c.out, c.readme); err != nil {
		logf("%v", err)
		return 1
	}
	logf("done in %s; results in %s", rep.Elapsed.Round(time.Second), c.out)
	status := 0
	for _, r := range rep.Results {
		if r.Failed() {
			logf("FAILED %s %s: %s", r.Subject, r.Cell, r.Err)
			status = 1
		}
	}
	if rep.HTTP != nil {
		for _, t := range rep.HTTP.Targets {
			switch {
			case t.Err != "":
				logf("HTTP target %s vs %s: not judged: %s", t.Scenario, t.Peer, firstLine(t.Err))
			default:
				verdict := "met"
				if !t.Met {
					verdict = "MISSED"
				}
				logf("HTTP target %s: sessionkit adds %.3f of what %s adds (limit %.3f): %s",
					t.Scenario, t.Fraction, t.Peer, t.MaxFraction, verdict)
			}
		}
		for _, r := range rep.HTTP.Results {
			if r.Err != "" {
				logf("FAILED HTTP %s, %s: %s", r.Scenario, r.Library, r.Err)
				status = 1
			}
		}
	}
	return status
}

// write writes results.md, results.json and one SVG per workload into
// out, and the README block when readme is set. results.md keeps the
// section of the latest scale run, from scale.json, when there is one.
func write(rep *bench.Report, out, readme string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	scale, err := readJSON[bench.ScaleReport](filepath.Join(out, scaleJSON))
	switch {
	case err == nil:
		rep.Scale = scale
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, resultsMD), md.Bytes(), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, resultsJSON), append(js, '\n'), 0o644); err != nil {
		return err
	}
	for _, wl := range rep.Workloads {
		var svg bytes.Buffer
		if err := rep.WriteSVG(&svg, wl); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, chartName(wl)), svg.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if readme == "" {
		return nil
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(readme), out)
	if err != nil {
		return err
	}
	var block bytes.Buffer
	err = rep.WriteReadmeBlock(&block, func(wl bench.Workload) string {
		return filepath.ToSlash(filepath.Join(rel, chartName(wl)))
	})
	if err != nil {
		return err
	}
	doc, err = bench.ReplaceBlock(doc, block.Bytes())
	if err != nil {
		return fmt.Errorf("%s: %w", readme, err)
	}
	return os.WriteFile(readme, doc, 0o644)
}

func chartName(wl bench.Workload) string { return strings.ToLower(wl.Name) + ".svg" }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
