package sessions

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

// codecBenchValue is the benchmark's typical session: a user, roles, a
// CSRF token, an expiry and a small cart.
func codecBenchValue() codecSession {
	return codecSession{
		User:    "ann.smith@example.com",
		ID:      1234567,
		Roles:   []string{"admin", "editor"},
		Admin:   true,
		Expires: time.Date(2026, 1, 8, 10, 4, 5, 123456789, time.UTC),
		CSRF:    bytes.Repeat([]byte{0x5a, 0xc3}, 16),
		Cart:    map[string]int{"apple": 3, "pear": 12},
	}
}

func BenchmarkCompactEncode(b *testing.B) {
	v := codecBenchValue()
	b.Run("compact", func(b *testing.B) {
		c := Compact[codecSession]()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Serialize(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCompactDecode(b *testing.B) {
	v := codecBenchValue()
	b.Run("compact", func(b *testing.B) {
		c := Compact[codecSession]()
		s, err := c.Serialize(v)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Deserialize(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		j, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			var out codecSession
			if err := json.Unmarshal(j, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCompactSpeedupOverJSON checks the speed target as a ratio
// measured in one run: the codec and encoding/json take turns on the same
// value, in batches, so that a noisy machine slows both alike. It reports
// how many times faster the codec is (json ns / compact ns) and fails when
// Deserialize is less than twice as fast as json.Unmarshal. It also
// reports the size of the text against base64url(JSON), the size-ratio.
func BenchmarkCompactSpeedupOverJSON(b *testing.B) {
	const batch = 16
	v := codecBenchValue()
	c := Compact[codecSession]()
	s, err := c.Serialize(v)
	if err != nil {
		b.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	var compactDec, jsonDec, compactEnc, jsonEnc time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			_, _ = c.Deserialize(s)
		}
		t1 := time.Now()
		for range batch {
			var out codecSession
			_ = json.Unmarshal(j, &out)
		}
		t2 := time.Now()
		for range batch {
			_, _ = c.Serialize(v)
		}
		t3 := time.Now()
		for range batch {
			_, _ = json.Marshal(v)
		}
		t4 := time.Now()
		compactDec += t1.Sub(t0)
		jsonDec += t2.Sub(t1)
		compactEnc += t3.Sub(t2)
		jsonEnc += t4.Sub(t3)
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(compactDec.Nanoseconds())/n, "compact-decode-ns")
	b.ReportMetric(float64(jsonDec.Nanoseconds())/n, "json-decode-ns")
	b.ReportMetric(float64(compactEnc.Nanoseconds())/n, "compact-encode-ns")
	b.ReportMetric(float64(jsonEnc.Nanoseconds())/n, "json-encode-ns")
	decodeSpeedup := float64(jsonDec) / float64(compactDec)
	b.ReportMetric(decodeSpeedup, "decode-speedup")
	b.ReportMetric(float64(jsonEnc)/float64(compactEnc), "encode-speedup")
	b.ReportMetric(float64(len(s))/float64(base64.RawURLEncoding.EncodedLen(len(j))), "size-ratio")
	// The first, one-iteration round only sizes b.N; judge the real one.
	if b.N >= 100 && decodeSpeedup < 2 {
		b.Errorf("Deserialize is %.2fx as fast as json.Unmarshal, want at least 2x", decodeSpeedup)
	}
}
