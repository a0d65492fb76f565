package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// commandsPerRequest serves requests through c and returns the Redis
// commands each sent, from the difference of the server's command
// statistics, as "GET 1, SET 1"; "" when the statistics cannot be read.
// Other clients of the server would be counted too: the harness's server
// is the benchmark's alone.
func commandsPerRequest(ctx context.Context, probe *goredis.Client, c *httpContender) string {
	const requests = 20
	before, err := commandCounts(ctx, probe)
	if err != nil {
		return ""
	}
	w := newDiscardWriter()
	for range requests {
		serve(c.handler, c.request, w)
	}
	after, err := commandCounts(ctx, probe)
	if err != nil {
		return ""
	}
	var parts []string
	for name, n := range after {
		if name == "info" {
			continue
		}
		if d := float64(n-before[name]) / requests; d > 0 {
			parts = append(parts, fmt.Sprintf("%s %g", strings.ToUpper(name), d))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// commandCounts parses INFO commandstats into calls by command name.
func commandCounts(ctx context.Context, client *goredis.Client) (map[string]int64, error) {
	info, err := client.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	return parseCommandStats(info), nil
}

// parseCommandStats returns the calls by command name of the text of
// INFO commandstats ("cmdstat_get:calls=100,usec=88,...").
func parseCommandStats(info string) map[string]int64 {
	out := make(map[string]int64)
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, field := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(field, "calls="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err == nil {
					out[strings.TrimPrefix(name, "cmdstat_")] = n
				}
			}
		}
	}
	return out
}

// measureHandler runs requests through h, one at a time, for about d, and
// returns the nanoseconds and allocations per request. The clock is read
// once per batch of requests, so its cost is not in the figure.
func measureHandler(ctx context.Context, h http.Handler, tmpl *http.Request, d time.Duration) (nsPerOp, allocsPerOp float64) {
	w := newDiscardWriter()
	// Warm up: pools, caches, the first allocation of the writer's map.
	for range 64 {
		serve(h, tmpl, w)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const batch = 32
	ops := 0
	start := time.Now()
	deadline := start.Add(d)
	for {
		for range batch {
			serve(h, tmpl, w)
		}
		ops += batch
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			break
		}
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return float64(elapsed.Nanoseconds()) / float64(ops), float64(after.Mallocs-before.Mallocs) / float64(ops)
}

// pairedAboveFloor serves requests through floor and c in turn, one each,
// for about d, the pair's order alternating, and returns the median over
// the pairs of c's time minus floor's.
func pairedAboveFloor(ctx context.Context, floor, c *httpContender, d time.Duration) time.Duration {
	w := newDiscardWriter()
	timed := func(h *httpContender) time.Duration {
		start := time.Now()
		serve(h.handler, h.request, w)
		return time.Since(start)
	}
	for range 64 { // warm up, as measureHandler does
		timed(floor)
		timed(c)
	}
	var diffs []time.Duration
	deadline := time.Now().Add(d)
	for i := 0; len(diffs) < 100 || time.Now().Before(deadline); i++ {
		if ctx.Err() != nil {
			break
		}
		var f, l time.Duration
		if i%2 == 0 {
			f, l = timed(floor), timed(c)
		} else {
			l, f = timed(c), timed(floor)
		}
		diffs = append(diffs, l-f)
	}
	return medianDuration(diffs)
}

// medianDuration returns the median of ds (the upper middle one for an
// even count), or 0 for none. ds is sorted in place.
func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// median returns the median of xs (the mean of the two middle values for
// an even count), or 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
