package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/benchmarks/internal/bench"
)

func TestBadFlagsExitWithStatus2(t *testing.T) {
	for _, args := range [][]string{
		{"-workloads", "Scan"},
		{"-sizes", "1MiB"},
		{"-concurrency", "0"},
		{"-backends", "nosuch"},
		{"-duration", "0s"},
		{"extra"},
	} {
		var stderr bytes.Buffer
		if got := run(args, &stderr); got != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr:\n%s", args, got, stderr.String())
		}
	}
}

func TestARunWritesEveryOutput(t *testing.T) {
	out := t.TempDir()
	readme := filepath.Join(out, "README.md")
	os.WriteFile(readme, []byte("# x\n"+bench.ReadmeBegin+"\nold\n"+bench.ReadmeEnd+"\n"), 0o644)
	var stderr bytes.Buffer
	args := []string{"-backends", "memory", "-workloads", "Read,Mix90", "-sizes", "128B", "-concurrency", "1,2",
		"-duration", "3ms", "-warmup", "0s", "-min-ops", "0", "-http=false", "-out", out, "-readme", readme}
	if got := run(args, &stderr); got != 0 {
		t.Fatalf("run = %d, want 0; stderr:\n%s", got, stderr.String())
	}
	if !strings.Contains(stderr.String(), "[12/12,") {
		t.Errorf("no progress line for the last of 12 cells on stderr:\n%s", stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| **sessionkit/memory** | sessionkit | 2 |") {
		t.Errorf("results.md lacks the sessionkit/memory row at 2 goroutines:\n%s", md)
	}
	var rep bench.Report
	js, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &rep); err != nil || len(rep.Results) != 12 {
		t.Errorf("results.json: %v, %d results; want 12", err, len(rep.Results))
	}
	for _, name := range []string{"read.svg", "mix90.svg"} {
		svg, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(svg))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s is not well-formed: %v", name, err)
			}
		}
	}
	doc, _ := os.ReadFile(readme)
	if strings.Contains(string(doc), "old") || !strings.Contains(string(doc), "](read.svg)") ||
		!strings.Contains(string(doc), "-backends memory") {
		t.Errorf("the README block was not replaced by the results, chart links and command:\n%s", doc)
	}
}

func TestCommandLineQuotesWhatAShellWouldSplit(t *testing.T) {
	got := commandLine([]string{"-backends", "memory,redis", "-out", "my results"})
	want := "go run ./benchmarks/cmd/sessionbench -backends memory,redis -out 'my results'"
	if got != want {
		t.Errorf("commandLine = %q, want %q", got, want)
	}
}

func TestScaleBadFlagsExitWithStatus2(t *testing.T) {
	for _, args := range [][]string{
		{"scale", "-n", "0"},
		{"scale", "-n", "1.5k"},
		{"scale", "-backends", "cache"},
		{"scale", "-concurrency", "0"},
		{"scale", "-payload", "5000"},
		{"scale", "-duration", "0s"},
		{"scale", "extra"},
	} {
		var stderr bytes.Buffer
		if got := run(args, &stderr); got != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr:\n%s", args, got, stderr.String())
		}
	}
}

// The two modes run separately and write one results.md: each rewrite of
// it keeps the section of the other mode, from the other's JSON file.
func TestScaleAndStorageRunsKeepEachOthersSection(t *testing.T) {
	out := t.TempDir()
	storage := []string{"-backends", "memory", "-workloads", "Read", "-sizes", "128B", "-concurrency", "1",
		"-duration", "3ms", "-warmup", "0s", "-min-ops", "0", "-http=false", "-out", out}
	scale := []string{"scale", "-backends", "memory", "-n", "100,300", "-duration", "5ms", "-warmup", "0s",
		"-rounds", "1", "-concurrency", "2", "-expire-after", "10ms", "-note", "1,000,000 pending", "-out", out}
	md := func() string {
		b, err := os.ReadFile(filepath.Join(out, "results.md"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for i, step := range []struct {
		args                []string
		summary, scaleTable bool
	}{
		{scale, false, true},
		{storage, true, true},
		{scale, true, true},
	} {
		var stderr bytes.Buffer
		if got := run(step.args, &stderr); got != 0 {
			t.Fatalf("step %d: run = %d, want 0; stderr:\n%s", i, got, stderr.String())
		}
		doc := md()
		if got := strings.Contains(doc, "## Summary"); got != step.summary {
			t.Errorf("step %d: results.md has the storage summary: %v, want %v", i, got, step.summary)
		}
		if got := strings.Contains(doc, "| sessionkit/memory | 300 |"); got != step.scaleTable {
			t.Errorf("step %d: results.md has the scale latency row: %v, want %v\n%s", i, got, step.scaleTable, doc)
		}
	}
	if doc := md(); !strings.Contains(doc, "- Note: 1,000,000 pending") || !strings.Contains(doc, "sessionbench scale -backends memory") {
		t.Errorf("the scale section lacks the note or the command:\n%s", doc)
	}
	// -from-json writes the same report again without measuring.
	before := md()
	os.Remove(filepath.Join(out, bench.ScaleBytesChart))
	if got := run([]string{"scale", "-from-json", "-out", out}, io.Discard); got != 0 || md() != before {
		t.Errorf("scale -from-json = %d; results.md changed: %v", got, md() != before)
	}
	if _, err := os.Stat(filepath.Join(out, bench.ScaleBytesChart)); err != nil {
		t.Errorf("scale -from-json did not write the charts again: %v", err)
	}
	var rep bench.ScaleReport
	js, err := os.ReadFile(filepath.Join(out, "scale.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &rep); err != nil || len(rep.Results) != 2 || rep.Results[1].N != 300 {
		t.Errorf("scale.json: %v, %d results; want 2, the second at 300 sessions", err, len(rep.Results))
	}
	for _, name := range []string{bench.ScaleLatencyChart, bench.ScaleBytesChart} {
		svg, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(svg))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s is not well-formed: %v", name, err)
			}
		}
	}
}
