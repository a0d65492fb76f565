// Command filelayers checks that the files of each given Go package stand
// in layers: no file uses, directly or through other files of its package,
// a name declared in a file that uses it back. A reader can then read a
// package's files bottom up, and a change to a file reaches only the files
// above it. Names are resolved by the type checker, so a comment, a string
// or a local variable that shares a name draws no dependency; a method or a
// field counts for the file that declares it.
//
// It prints each circle of files with the names that tie them, and exits
// with status 1 when it finds one. Test files are not part of the layers.
//
// It uses the standard library only, so that it runs with "go run" outside
// any module and without a download; the packages' own imports are
// resolved by the go command, from the package's folder.
//
//	go run scripts/filelayers/main.go DIR...
package main

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: filelayers DIR...")
		os.Exit(2)
	}
	// "go run" of this file outside any module wants GOWORK=off; the
	// packages checked are resolved as their modules' own builds resolve
	// them, in the workspace that holds them.
	os.Unsetenv("GOWORK")
	bad := false
	for _, dir := range os.Args[1:] {
		circles, err := check(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "filelayers: %s: %v\n", dir, err)
			os.Exit(2)
		}
		for _, c := range circles {
			bad = true
			fmt.Printf("%s: files that use each other in a circle:\n%s", dir, c)
		}
		if len(circles) == 0 {
			fmt.Printf("%s: in layers\n", dir)
		}
	}
	if bad {
		fmt.Println("move names so that a lower file does not need an upper one")
		os.Exit(1)
	}
}

// check returns the circles among the non-test files of the package in
// dir, each written as the lines "\tA uses B: names".
func check(dir string) ([]string, error) {
	uses, err := fileUses(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, scc := range circles(uses) {
		var b strings.Builder
		for _, from := range scc {
			for _, to := range sortedKeys(uses[from]) {
				if slices.Contains(scc, to) {
					b.WriteString("\t" + from + " uses " + to + ": " + strings.Join(sortedKeys(uses[from][to]), ", ") + "\n")
				}
			}
		}
		out = append(out, b.String())
	}
	return out, nil
}

// fileUses type-checks the non-test files of the package in dir and
// returns, for each file, the other files whose package-level names, or
// methods and fields of whose types, it uses, with those names.
func fileUses(dir string) (map[string]map[string]map[string]bool, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		// Only the files this platform builds: two files that each
		// declare a name for their own platform are not a circle.
		if ok, err := build.Default.MatchFile(dir, filepath.Base(name)); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, nil // a folder of tests only
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check(dir, fset, files, info)
	if err != nil {
		return nil, err
	}
	uses := map[string]map[string]map[string]bool{}
	for id, obj := range info.Uses {
		if obj.Pkg() != pkg || !obj.Pos().IsValid() {
			continue
		}
		switch o := obj.(type) {
		case *types.Var:
			if !o.IsField() && o.Parent() != pkg.Scope() {
				continue // a local variable or a parameter
			}
		case *types.Label, *types.PkgName:
			continue
		}
		if obj.Parent() != nil && obj.Parent() != pkg.Scope() {
			continue // a local constant or type
		}
		from := filepath.Base(fset.Position(id.Pos()).Filename)
		to := filepath.Base(fset.Position(obj.Pos()).Filename)
		if from == to {
			continue
		}
		if uses[from] == nil {
			uses[from] = map[string]map[string]bool{}
		}
		if uses[from][to] == nil {
			uses[from][to] = map[string]bool{}
		}
		uses[from][to][obj.Name()] = true
	}
	return uses, nil
}

// circles returns the strongly connected components of more than one file
// (Tarjan's algorithm), each sorted, in the order of their first file.
func circles[V any](uses map[string]map[string]V) [][]string {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var out [][]string
	var visit func(f string)
	visit = func(f string) {
		index[f], low[f] = len(index), len(index)
		stack = append(stack, f)
		onStack[f] = true
		for _, g := range sortedKeys(uses[f]) {
			if _, seen := index[g]; !seen {
				visit(g)
				low[f] = min(low[f], low[g])
			} else if onStack[g] {
				low[f] = min(low[f], index[g])
			}
		}
		if low[f] != index[f] {
			return
		}
		var scc []string
		for {
			g := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[g] = false
			scc = append(scc, g)
			if g == f {
				break
			}
		}
		if len(scc) > 1 {
			slices.Sort(scc)
			out = append(out, scc)
		}
	}
	for _, f := range sortedKeys(uses) {
		if _, seen := index[f]; !seen {
			visit(f)
		}
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
