package main

import (
	"strings"
	"testing"
)

// TestCheckFindsACircle checks that two files using each other's names are
// reported, with the names, and that a file standing above them is not.
func TestCheckFindsACircle(t *testing.T) {
	got, err := check("testdata/circle")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d circles, want 1: %q", len(got), got)
	}
	for _, want := range []string{"a.go uses b.go: B", "b.go uses a.go: A, name"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("circle %q lacks %q", got[0], want)
		}
	}
	if strings.Contains(got[0], "c.go") {
		t.Errorf("circle %q names c.go, which only stands above it", got[0])
	}
}

// TestCheckIgnoresWordsAndLocals checks that a package whose files use
// each other only through comments and local names is in layers.
func TestCheckIgnoresWordsAndLocals(t *testing.T) {
	got, err := check("testdata/layered")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("got circles %q, want none", got)
	}
}
