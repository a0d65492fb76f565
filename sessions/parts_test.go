package sessions

import (
	"strconv"
	"testing"
)

// TestSealTimesIsTransformWriteOfTheJoin: the middleware's one-pass write
// of a client-side value's times and value, sealed and then encoded, reads
// back, under TransformRead, as the joined text, for each transformer that
// has it.
func TestSealTimesIsTransformWriteOfTheJoin(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	mac, err := MessageAuthentication(key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Encrypt(key)
	if err != nil {
		t.Fatal(err)
	}
	tm := times{created: 1_700_000_000, touched: 1_700_000_123}
	var head [32]byte
	want := string(appendTimes(head[:0], tm)) + "value"
	for _, tr := range []Transformer{mac, enc} {
		buf, sealed := tr.(partsSealer).sealTimes("cookie S", tm, "value", 0)
		out := tfEncoding.EncodeToString(sealed)
		tfPutBuffer(buf)
		got, err := tr.TransformRead("cookie S", out)
		if err != nil || got != want {
			t.Errorf("%v: read back %q, %v; want %q", tr, got, err, want)
		}
	}
}

// TestTimesLenIsTheLengthOfTheTimes: encodeTimes sizes the sealed value
// from timesLen before it writes the times.
func TestTimesLenIsTheLengthOfTheTimes(t *testing.T) {
	values := []int64{0, 1, 35, 36, 37, 1295, 1296, -1, -35, -36, -37, 1_700_000_000, 1<<63 - 1, -1 << 63}
	for p := int64(36); p < 1<<62; p *= 36 {
		values = append(values, p-1, p, p+1, -p+1, -p, -p-1)
	}
	for _, c := range values {
		for _, u := range values {
			tm := times{created: c, touched: u}
			if got, want := timesLen(tm), len(appendTimes(nil, tm)); got != want {
				t.Fatalf("timesLen(%v) = %d; want %d", tm, got, want)
			}
		}
	}
}

// TestAppendUnixIsBase36: the times a session carries are written as
// strconv writes base 36, which parseUnix reads back.
func TestAppendUnixIsBase36(t *testing.T) {
	values := []int64{0, 1, 35, 36, 1_700_000_000, 1<<63 - 1, -1, -36, -1 << 63}
	for p := int64(36); p < 1<<62; p *= 36 {
		values = append(values, p-1, p, p+1)
	}
	for v := int64(1); v > 0; v = v*7 + 3 {
		values = append(values, v)
	}
	for _, v := range values {
		if got, want := string(appendUnix(nil, v)), strconv.FormatInt(v, 36); got != want {
			t.Fatalf("appendUnix(%d) = %q; want %q", v, got, want)
		}
		if v >= 0 && unixLen(v) <= 12 { // parseUnix's bound, far past the year 9999
			if back, ok := parseUnix(string(appendUnix(nil, v))); !ok || back != v {
				t.Fatalf("parseUnix(appendUnix(%d)) = %d, %v", v, back, ok)
			}
		}
	}
}
