package bench

import (
	"math"
	"testing"
	"time"
)

func TestBucketLayoutIsContiguous(t *testing.T) {
	// Every bucket must hold exactly [low, low+width), and the next one
	// must start where it ends: a gap or an overlap would put values in
	// the wrong bucket and skew every percentile above it.
	for i := 0; i < numBuckets-1; i++ {
		low, width := bucketBounds(i)
		if got := bucketOf(low); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d (the bucket's low bound)", low, got, i)
		}
		if got := bucketOf(low + width - 1); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d (the bucket's last value)", low+width-1, got, i)
		}
		nextLow, _ := bucketBounds(i + 1)
		if nextLow != low+width {
			t.Fatalf("bucket %d ends at %d but bucket %d starts at %d", i, low+width, i+1, nextLow)
		}
		if i >= 2*subBuckets && float64(width)/float64(low) > 1.0/subBuckets {
			t.Fatalf("bucket %d is %d wide at %d: more than 1/%d of its value", i, width, low, subBuckets)
		}
	}
}

func TestPercentileWithinRelativeError(t *testing.T) {
	const n = 100_000
	var h Histogram
	// Values 1µs apart, recorded in a scrambled order: the order must not
	// matter.
	for i := range n {
		v := (i*7919)%n + 1
		h.Record(time.Duration(v) * time.Microsecond)
	}
	for _, q := range []float64{0.01, 0.25, 0.5, 0.9, 0.99, 0.999} {
		want := math.Ceil(q*n) * float64(time.Microsecond) // nearest rank
		got := float64(h.Percentile(q))
		if rel := math.Abs(got-want) / want; rel > 1.0/(2*subBuckets) {
			t.Errorf("Percentile(%v) = %v, want %v within %.1f%%; off by %.2f%%",
				q, time.Duration(got), time.Duration(want), 100.0/(2*subBuckets), rel*100)
		}
	}
	if h.Count() != n {
		t.Errorf("Count() = %d, want %d", h.Count(), n)
	}
	if h.Min() != time.Microsecond || h.Max() != n*time.Microsecond {
		t.Errorf("Min, Max = %v, %v; want 1µs, 100ms", h.Min(), h.Max())
	}
	if want := time.Duration((n + 1) * 500); h.Mean() != want {
		t.Errorf("Mean() = %v, want %v", h.Mean(), want)
	}
}

func TestPercentileOfOneValueIsExact(t *testing.T) {
	// A bucket's midpoint is clamped to what was recorded, so a constant
	// latency reports itself, not its bucket's middle.
	var h Histogram
	for range 1000 {
		h.Record(1234567 * time.Nanosecond)
	}
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		if got := h.Percentile(q); got != 1234567*time.Nanosecond {
			t.Errorf("Percentile(%v) = %v, want 1.234567ms exactly", q, got)
		}
	}
}

func TestSmallValuesAreExact(t *testing.T) {
	for v := range 2 * subBuckets {
		var h Histogram
		h.Record(time.Duration(v))
		h.Record(time.Duration(v))
		h.Record(time.Duration(v + 1000)) // so that clamping to Max does not help
		if got := h.Percentile(0.5); got != time.Duration(v) {
			t.Errorf("median of {%d, %d, %d}ns = %v, want %dns", v, v, v+1000, got, v)
		}
	}
}

func TestPercentileBounds(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{5 * time.Microsecond, time.Millisecond, 3 * time.Second} {
		h.Record(d)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{-1, 5 * time.Microsecond},
		{0, 5 * time.Microsecond},
		{math.NaN(), 5 * time.Microsecond},
		{1, 3 * time.Second},
		{7, 3 * time.Second},
	}
	for _, tt := range tests {
		if got := h.Percentile(tt.q); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestEmptyHistogramReportsZero(t *testing.T) {
	var h Histogram
	if h.Percentile(0.5) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Errorf("empty histogram: p50 %v, min %v, max %v, mean %v, count %d; want all zero",
			h.Percentile(0.5), h.Min(), h.Max(), h.Mean(), h.Count())
	}
}

func TestHugeAndNegativeValuesAreKept(t *testing.T) {
	var h Histogram
	h.Record(-time.Second) // a clock that stepped back
	h.Record(10 * time.Hour)
	if h.Min() != 0 {
		t.Errorf("Min() = %v after recording -1s, want 0", h.Min())
	}
	if h.Max() != 10*time.Hour || h.Percentile(1) != 10*time.Hour {
		t.Errorf("Max() = %v, Percentile(1) = %v; want 10h exactly past the last bucket", h.Max(), h.Percentile(1))
	}
}

func TestMergeEqualsRecordingEverything(t *testing.T) {
	var a, b, all Histogram
	for i := range 5000 {
		d := time.Duration(i*i) * time.Nanosecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&b)
	merged.Merge(new(Histogram)) // merging an empty one changes nothing
	if merged != all {
		t.Errorf("merging two halves differs from recording everything: p50 %v vs %v, count %d vs %d",
			merged.Percentile(0.5), all.Percentile(0.5), merged.Count(), all.Count())
	}
	b.Reset()
	if b.Count() != 0 || b.Max() != 0 {
		t.Errorf("after Reset: count %d, max %v; want 0", b.Count(), b.Max())
	}
}

// TestRecordDoesNotAllocate compares a thousand Records with one, rather
// than holding either to an absolute count that the runtime could move:
// a Record that allocated would cost a thousand times more.
func TestRecordDoesNotAllocate(t *testing.T) {
	h := new(Histogram)
	one := testing.AllocsPerRun(100, func() { h.Record(1500 * time.Nanosecond) })
	many := testing.AllocsPerRun(100, func() {
		for i := range 1000 {
			h.Record(time.Duration(i) * time.Microsecond)
		}
	})
	if many > one+1 {
		t.Errorf("1000 Records allocate %v times, one Record %v: Record allocates per call", many, one)
	}
}
