package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedFileIsCurrent fails when sessions/compose_gen.go is not what
// this program writes: a capability was added here without running go
// generate, or the generated file was edited by hand.
func TestGeneratedFileIsCurrent(t *testing.T) {
	want, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../compose_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("sessions/compose_gen.go is stale: run go generate in the sessions folder and commit the result")
	}
}
