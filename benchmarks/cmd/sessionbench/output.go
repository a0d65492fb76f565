package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/sessionkit/sessionkit/benchmarks/internal/bench"
)

// The files the two modes write into -out. results.md shows both: each
// mode reads the other's JSON, when it is there, to write it.
const (
	resultsJSON = "results.json"
	scaleJSON   = "scale.json"
	resultsMD   = "results.md"
)

// readJSON reads a file that sessionbench wrote.
func readJSON[T any](path string) (*T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// commandLine reconstructs the command as a user types it from the
// repository root.
func commandLine(args []string) string {
	parts := []string{"go run ./benchmarks/cmd/sessionbench"}
	for _, a := range args {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func isSkipped(skipped []bench.Skipped, name string) bool {
	for _, s := range skipped {
		if s.Subject == name {
			return true
		}
	}
	return false
}

// quiet is a testcontainers logger that drops everything: without -v, the
// banner testcontainers prints once per process would interleave with the
// progress lines.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
