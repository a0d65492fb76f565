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
	"syscall"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/sessionkit/sessionkit/benchmarks/internal/bench"
	"github.com/sessionkit/sessionkit/benchmarks/internal/servers"
)

type scaleConfig struct {
	backends, counts, tmp, out, note string
	short, verbose, fromJSON         bool
	concurrency, rounds, minOps      int
	payload                          int
	duration, warmup, expireAfter    time.Duration
}

// runScale is "sessionbench scale": how each backend's footprint and
// latencies grow with the number of live sessions.
func runScale(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sessionbench scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c scaleConfig
	fs.StringVar(&c.backends, "backends", "all", "comma-separated backends: memory, directory, bolt, postgres, redis")
	fs.StringVar(&c.counts, "n", "1k,100k,1M", "comma-separated numbers of live sessions (suffixes k and M allowed)")
	fs.BoolVar(&c.short, "short", false, "small counts and short rounds (-n 1k,10k -duration 300ms -warmup 50ms -rounds 2) unless those flags are given")
	fs.IntVar(&c.concurrency, "concurrency", 4, "goroutines of the latency loops and of the requests during a sweep")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds of each latency measurement (the lowest percentiles are kept)")
	fs.DurationVar(&c.duration, "duration", time.Second, "measured time per latency round, and the requests' sample before a sweep")
	fs.DurationVar(&c.warmup, "warmup", 100*time.Millisecond, "unmeasured warm-up per latency round")
	fs.IntVar(&c.minOps, "min-ops", 50, "operations a latency round measures at least")
	fs.IntVar(&c.payload, "payload", bench.ScalePayloadBytes, "bytes per session")
	fs.DurationVar(&c.expireAfter, "expire-after", time.Second, "how long after its write a churn session expires")
	fs.StringVar(&c.tmp, "tmp", "", "folder for the directory and bolt stores (default: the system's temporary folder)")
	fs.StringVar(&c.out, "out", "benchmarks/results", "folder the results are written to (relative to the current directory)")
	fs.StringVar(&c.note, "note", "", "a remark shown in the report's context (a count left pending, say)")
	fs.BoolVar(&c.verbose, "v", false, "show the container harness's log")
	fs.BoolVar(&c.fromJSON, "from-json", false, "measure nothing: write the report and charts again from the scale.json in -out (with -note, replace its note)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sessionbench scale: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if c.fromJSON {
		rep, err := readJSON[bench.ScaleReport](filepath.Join(c.out, scaleJSON))
		if err == nil {
			fs.Visit(func(f *flag.Flag) {
				if f.Name == "note" {
					rep.Note = c.note
				}
			})
			err = writeScale(rep, c.out)
		}
		if err != nil {
			fmt.Fprintf(stderr, "sessionbench scale: %v\n", err)
			return 1
		}
		return 0
	}
	if c.short {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		defaults := map[string]func(){
			"n":        func() { c.counts = "1k,10k" },
			"duration": func() { c.duration = 300 * time.Millisecond },
			"warmup":   func() { c.warmup = 50 * time.Millisecond },
			"rounds":   func() { c.rounds = 2 },
		}
		for name, apply := range defaults {
			if !set[name] {
				apply()
			}
		}
	}
	subjects, err := bench.SelectScaleSubjects(bench.ScaleSubjects(), c.backends)
	var counts []int
	if err == nil {
		counts, err = bench.ParseCounts(c.counts)
	}
	if err == nil && (c.duration <= 0 || c.warmup < 0 || c.minOps < 0 || c.concurrency < 1 || c.concurrency > 1024 ||
		c.rounds < 1 || c.payload < 1 || c.payload > 4096 || c.expireAfter <= 0) {
		err = errors.New("-duration and -expire-after must be positive, -warmup and -min-ops not negative, " +
			"-concurrency from 1 to 1024, -rounds at least 1, -payload from 1 to 4096")
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionbench scale: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "sessionbench: "+format+"\n", args...) }
	start := time.Now()
	load := bench.ReadLoadAverage()
	logf("scale: %s sessions; load average %s", joinCounts(counts), load)

	needRedis, needPostgres := false, false
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
	srv := &servers.Servers{}
	if needRedis || needPostgres {
		logf("getting servers (Redis: %v, Postgres: %v)", needRedis, needPostgres)
		srv = servers.Start(ctx, "sessionbench", needRedis, needPostgres, harnessLog)
	}
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
	opts := bench.ScaleOptions{
		Counts:       counts,
		PayloadBytes: c.payload,
		Concurrency:  c.concurrency,
		Rounds:       c.rounds,
		Run:          bench.RunOptions{Duration: c.duration, Warmup: c.warmup, MinOps: c.minOps},
		ExpireAfter:  c.expireAfter,
		TempDir:      c.tmp,
		RedisAddr:    srv.RedisAddr, PostgresDSN: srv.PostgresDSN,
		RedisReason: srv.RedisReason, PostgresReason: srv.PostgresReason,
		Progress: func(line string) { logf("%s", line) },
	}
	rep := &bench.ScaleReport{
		Date:         time.Now(),
		Command:      commandLine(append([]string{"scale"}, args...)),
		Machine:      bench.DescribeMachine(),
		Note:         c.note,
		Counts:       counts,
		PayloadBytes: c.payload,
		Concurrency:  c.concurrency,
		Rounds:       c.rounds,
		Duration:     c.duration,
		Warmup:       c.warmup,
		ExpireAfter:  c.expireAfter,
		LoadStart:    load,
	}
	rep.Results, rep.Skipped, err = bench.RunScale(ctx, subjects, opts)
	if err != nil {
		logf("interrupted: %v; nothing written", err)
		return 1
	}
	for _, s := range subjects {
		if !isSkipped(rep.Skipped, s.Name) {
			rep.Subjects = append(rep.Subjects, s.Info())
		}
	}
	rep.LoadEnd = bench.ReadLoadAverage()
	rep.Elapsed = time.Since(start)
	if err := writeScale(rep, c.out); err != nil {
		logf("%v", err)
		return 1
	}
	logf("done in %s; load average %s; results in %s", rep.Elapsed.Round(time.Second), rep.LoadEnd, c.out)
	status := 0
	for _, r := range rep.Results {
		if r.Failed() {
			logf("FAILED %s at %s sessions: %s", r.Subject, bench.FormatCount(r.N), r.Err)
			status = 1
		}
	}
	for _, g := range rep.Goals() {
		verdict := "met"
		switch {
		case !g.Judged:
			verdict = "not judged: " + g.Why
		case !g.Met:
			verdict = "MISSED"
		}
		logf("goal %s, %s sessions, %s: %.2f× (limit %.1f×): %s", g.Subject, bench.FormatCount(g.N), g.What, g.Ratio, g.Limit, verdict)
	}
	return status
}

// writeScale writes scale.json and the scale charts into out, and
// results.md with the storage report of results.json when there is one.
func writeScale(rep *bench.ScaleReport, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, scaleJSON), append(js, '\n'), 0o644); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer) error{
		bench.ScaleLatencyChart: rep.WriteLatencySVG,
		bench.ScaleBytesChart:   rep.WriteBytesSVG,
	} {
		var svg bytes.Buffer
		if err := write(&svg); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), svg.Bytes(), 0o644); err != nil {
			return err
		}
	}
	var md bytes.Buffer
	storage, err := readJSON[bench.Report](filepath.Join(out, resultsJSON))
	switch {
	case err == nil:
		storage.Scale = rep
		err = storage.WriteMarkdown(&md)
	case errors.Is(err, os.ErrNotExist):
		md.WriteString("# sessionkit storage benchmarks\n\n")
		err = rep.WriteMarkdown(&md, func(name string) string { return name })
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, resultsMD), md.Bytes(), 0o644)
}

func joinCounts(counts []int) string {
	var b bytes.Buffer
	for i, n := range counts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(bench.FormatCount(n))
	}
	return b.String()
}
