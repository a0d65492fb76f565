package bench

import (
	"math"
	"math/bits"
	"time"
)

// Layout of the histogram's buckets: values below 2*subBuckets nanoseconds
// get one bucket each; above, every power of two is split into subBuckets
// buckets of equal width. A bucket is then at most 1/subBuckets of its lower
// bound wide, and the midpoint that Percentile reports is within
// 1/(2*subBuckets), about 1.6 %, of any value recorded in it.
const (
	subBits    = 5
	subBuckets = 1 << subBits
	// maxShift bounds the range: the last power of two split into buckets
	// ends at 2^(maxShift+subBits+1) ns, about 36 minutes. Longer values
	// land in the last bucket, and Max still reports them exactly.
	maxShift   = 35
	numBuckets = (maxShift + 2) * subBuckets
)

// Histogram records durations in fixed memory, about 9 KiB whatever the
// number of values, so that a benchmark can record the latency of millions
// of operations without keeping them. Record is a few nanoseconds and does
// not allocate.
//
// The zero Histogram is empty and ready to use. A Histogram is not safe for
// concurrent use: give each goroutine its own and Merge them afterwards.
type Histogram struct {
	counts   [numBuckets]uint64
	count    uint64
	sum      float64 // nanoseconds; a float so that it cannot overflow
	min, max int64
}

// bucketOf returns the index of the bucket that holds v nanoseconds; v is
// at least zero.
func bucketOf(v int64) int {
	u := uint64(v)
	if u < 2*subBuckets {
		return int(u)
	}
	shift := bits.Len64(u) - 1 - subBits
	if shift > maxShift {
		return numBuckets - 1
	}
	return (shift+1)*subBuckets + int(u>>uint(shift)) - subBuckets
}

// bucketBounds returns the smallest value of bucket i and its width.
func bucketBounds(i int) (low, width int64) {
	if i < 2*subBuckets {
		return int64(i), 1
	}
	shift := i/subBuckets - 1
	mant := int64(i%subBuckets + subBuckets)
	return mant << uint(shift), 1 << uint(shift)
}

// Record adds one duration. Negative durations, which a clock that steps
// back could produce, are recorded as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.count++
	h.sum += float64(v)
}

// Merge adds every value recorded in o to h. o is left unchanged.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.count += o.count
	h.sum += o.sum
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.count }

// Min returns the smallest value recorded, exactly, or 0 when h is empty.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max returns the largest value recorded, exactly, or 0 when h is empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the mean of the values recorded, or 0 when h is empty.
func (h *Histogram) Mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(math.Round(h.sum / float64(h.count)))
}

// Percentile returns the value below or at which a fraction q of the
// recorded values lie (q = 0.5 is the median, 0.99 the 99th percentile),
// to within about 1.6 % (the midpoint of the bucket that holds it, never
// outside the recorded minimum and maximum). q is clamped to [0, 1]:
// Percentile(0) is Min and Percentile(1) is Max. An empty Histogram
// returns 0.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	if !(q > 0) { // also NaN
		return time.Duration(h.min)
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	// The nearest-rank definition: the smallest value with at least
	// ceil(q*n) values at or below it.
	rank := uint64(math.Ceil(q * float64(h.count)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketBounds(i)
			v := low + (width-1)/2
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max) // unreachable: the counts sum to count
}
