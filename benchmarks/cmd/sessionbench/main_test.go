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
