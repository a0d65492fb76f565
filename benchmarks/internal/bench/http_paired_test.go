package bench

import (
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// BenchmarkHTTPRedisPaired measures the contenders of the Redis scenario,
// the very handlers RunHTTP measures, in two ways in one run (issue 15):
//
//   - as RunHTTP does: each contender alone for a window, the fastest of
//     several windows kept (window-*-ns), its difference with the floor's
//     fastest window reported as window-above-floor-ns;
//   - paired: the floor and one library serve a request each, in turn,
//     in an order that alternates, and the median over pairs of the
//     library's time minus the floor's is reported (paired-above-floor-ns).
//     A burst of load on a shared machine lands on one request of a pair;
//     it moves a window's mean, and so the difference of two windows taken
//     at different moments, but hardly this median.
//
// Sub-benchmarks are named after the library compared with the floor.
func BenchmarkHTTPRedisPaired(b *testing.B) {
	env := Env{Dir: b.TempDir(), RedisAddr: containers.Redis(b)}
	cs, err := redisContenders(b.Context(), env)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeContenders(cs) })
	var floor *httpContender
	for _, c := range cs {
		if c.floor {
			floor = c
		}
	}
	if floor == nil {
		b.Fatal("no floor contender")
	}
	for _, c := range cs {
		if c.floor || (c.Library != "sessionkit" && c.Library != "scs") {
			continue
		}
		if err := c.verify(); err != nil {
			b.Fatal(err)
		}
		b.Run(c.Library, func(b *testing.B) {
			const rounds, window = 3, 100 * time.Millisecond
			ctx := b.Context()
			var fw, lw []float64
			for range rounds {
				f, _ := measureHandler(ctx, floor.handler, floor.request, window)
				l, _ := measureHandler(ctx, c.handler, c.request, window)
				fw, lw = append(fw, f), append(lw, l)
			}
			var paired time.Duration
			for b.Loop() {
				paired = pairedAboveFloor(ctx, floor, c, window)
			}
			b.ReportMetric(slices.Min(fw), "window-floor-ns")
			b.ReportMetric(slices.Min(lw), "window-lib-ns")
			b.ReportMetric(slices.Min(lw)-slices.Min(fw), "window-above-floor-ns")
			b.ReportMetric(float64(paired), "paired-above-floor-ns")
		})
	}
}
