package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLogScale(t *testing.T) {
	s := NewLogScale([]float64{350, 42_000, 0, -1, math.Inf(1)}, 300)
	if s.Min != 100 || s.Max != 100_000 {
		t.Fatalf("NewLogScale spans %v to %v, want the powers of ten around the positive finite values: 100 to 100000", s.Min, s.Max)
	}
	tests := []struct {
		v, want float64
	}{
		{100, 0},
		{1000, 100},
		{10_000, 200},
		{100_000, 300},
		{1e9, 300}, // clamped
		{50, 0},    // below the scale
		{0, 0},
		{math.NaN(), 0},
	}
	for _, tt := range tests {
		if got := s.Len(tt.v); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Len(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
	if got := s.Ticks(); len(got) != 4 || got[0] != 100 || got[3] != 100_000 {
		t.Errorf("Ticks() = %v, want 100, 1000, 10000, 100000", got)
	}
	if e := NewLogScale(nil, 10); e.Min != 1 || e.Max != 10 {
		t.Errorf("NewLogScale(nil) spans %v to %v, want 1 to 10", e.Min, e.Max)
	}
	if one := NewLogScale([]float64{1000}, 10); !(one.Max > one.Min) {
		t.Errorf("a single value gives an empty scale: %v to %v", one.Min, one.Max)
	}
}

// svgBars parses an SVG and returns the width of each bar by the subject
// named in its title, failing the test if the SVG is not well-formed XML.
func svgBars(t *testing.T, svg []byte) map[string]float64 {
	t.Helper()
	bars := make(map[string]float64)
	d := xml.NewDecoder(bytes.NewReader(svg))
	var inBar bool
	var width float64
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "rect" {
				for _, a := range tok.Attr {
					if a.Name.Local == "class" && a.Value == "bar" {
						inBar = true
					}
				}
				for _, a := range tok.Attr {
					if inBar && a.Name.Local == "width" {
						width, _ = strconv.ParseFloat(a.Value, 64)
					}
				}
			}
		case xml.CharData:
			if inBar {
				name, _, _ := strings.Cut(string(tok), ",")
				bars[name] = width
			}
		case xml.EndElement:
			if tok.Name.Local == "rect" {
				inBar = false
			}
		}
	}
	return bars
}

func TestSVGIsWellFormedAndBarsFollowThroughput(t *testing.T) {
	rep := testReport()
	// Names that must be escaped, and three throughputs to order.
	rep.Subjects = []SubjectInfo{
		{Name: "a<b&c", Kind: KindMemory, Role: Sessionkit},
		{Name: "middle", Kind: KindMemory, Role: Raw},
		{Name: "slow \"q\"", Kind: KindBolt, Role: Peer},
		{Name: "broken", Kind: KindBolt, Role: Peer},
	}
	rep.Results = []Result{
		res("a<b&c", KindMemory, Sessionkit, cellA, 2e6, ""),
		res("middle", KindMemory, Raw, cellA, 3e4, ""),
		res("slow \"q\"", KindBolt, Peer, cellA, 150, ""),
		res("broken", KindBolt, Peer, cellA, 0, "disk full"),
		res("middle", KindMemory, Raw, cellB, 1e9, ""), // another workload: not in this chart
	}
	var buf bytes.Buffer
	if err := rep.WriteSVG(&buf, cellA.Workload); err != nil {
		t.Fatal(err)
	}
	bars := svgBars(t, buf.Bytes())
	if len(bars) != 3 {
		t.Fatalf("the chart has %d bars (%v), want one per successful result of the workload: 3", len(bars), bars)
	}
	fast, mid, slow := bars["a<b&c"], bars["middle"], bars[`slow "q"`]
	if !(fast > mid && mid > slow && slow > 0) {
		t.Errorf("bar widths %v, %v, %v do not follow throughputs 2M > 30k > 150", fast, mid, slow)
	}
	// On one log scale, equal ratios of throughput give equal differences
	// of length: 2e6/3e4 and 3e4/150 are 66.7 and 200.
	want := math.Log10(2e6/3e4) / math.Log10(3e4/150)
	if got := (fast - mid) / (mid - slow); math.Abs(got-want) > 0.02 {
		t.Errorf("bar lengths are not logarithmic: ratio of differences %v, want %v", got, want)
	}
	svg := buf.String()
	for _, want := range []string{"failed", "Skipped sessionkit/redis", "example.com/peer", "Read: operations per second"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
}

func TestFirstLineKeepsUTF8Valid(t *testing.T) {
	s := strings.Repeat("é", 200) + "\nsecond line"
	got := firstLine(s)
	if !strings.HasSuffix(got, "…") || strings.Contains(got, "second") {
		t.Errorf("firstLine did not cut to one shortened line: %q", got)
	}
	if !utf8.ValidString(got) {
		t.Errorf("firstLine cut a character in half: %q", got)
	}
}

func TestTickLabel(t *testing.T) {
	for v, want := range map[float64]string{1: "1", 100: "100", 1000: "1k", 1e5: "100k", 1e7: "10M", 1e9: "1G"} {
		if got := tickLabel(v); got != want {
			t.Errorf("tickLabel(%v) = %q, want %q", v, got, want)
		}
	}
}
