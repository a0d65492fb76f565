#!/usr/bin/env bash
# The release test: does each released module resolve and work the way a
# user gets it, without the workspace, the replace directives, tags or the
# network?
#
# It writes every module of scripts/released into a directory in the
# GOPROXY=file:// layout at version $VERSION (default v0.1.0), built from the
# folders on disk, not from tags. Third-party modules come from the local
# module cache, seen through the same directory. Then, in a fresh module
# outside the repository, with GOWORK=off, that directory as the only
# GOPROXY, no checksum database and an empty module cache, it runs
# "go get MODULE@VERSION" for each released module, builds a program that
# imports all of them, runs a conformance test written against storagetest,
# and runs each module's Examples (those with an Output comment run; the ones
# that need a server are compiled).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
version=${VERSION:-v0.1.0}
mapfile -t released < <(grep -v '^#' scripts/released | grep .)

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
proxy=$work/proxy
fresh=$work/fresh

# Every third-party module a released module needs must be in the local
# cache first; with a warm cache (scripts/test.sh runs this after the
# module tests) this reads nothing from the network.
for mod in "${released[@]}"; do
	(cd "$mod" && GOWORK=off GOFLAGS=-mod=mod go mod download)
done
cache=$(go env GOMODCACHE)/cache/download

GOWORK=off go run scripts/modproxy/main.go -out "$proxy" -version "$version" "${released[@]}"
# The third-party modules, linked rather than copied, and never our own.
(cd "$cache" && find . -type d -name '@v' -prune) | while read -r v; do
	case $v in ./github.com/sessionkit/*) continue ;; esac
	mkdir -p "$proxy/${v%/@v}"
	ln -s "$cache/$v" "$proxy/$v"
done

paths=()
for mod in "${released[@]}"; do
	paths+=("$(cd "$mod" && GOWORK=off go list -m)")
done

mkdir -p "$fresh"
cd "$fresh"
export GOWORK=off GOPROXY="file://$proxy" GOSUMDB=off GOPRIVATE= GONOPROXY= GONOSUMDB= \
	GOFLAGS="-mod=mod -modcacherw" GOMODCACHE="$work/modcache" GOTOOLCHAIN=local
# The recorded hashes of every third-party module, so that those zips are
# still verified although no checksum database is reachable; ours are new.
cat "$repo"/storage/*/go.sum "$repo"/storagetest/containers/go.sum 2>/dev/null | sort -u >go.sum
go mod init example.com/fresh >/dev/null 2>&1
for p in "${paths[@]}"; do
	go get "$p@$version"
done
echo "go.mod of the fresh module:"
sed 's/^/  /' go.mod

imports=$(printf '\t_ "%s"\n' "${paths[@]}")
cat >main.go <<GO
package main

import (
$imports
)

func main() {}
GO
cat >conformance_test.go <<'GO'
package main

import (
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/memory"
	"github.com/sessionkit/sessionkit/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sessions.Storage {
		s := memory.New(memory.WithSweepInterval(0))
		t.Cleanup(func() { s.Close() })
		return s
	})
}
GO
go build ./...
go test -count=1 ./...

# Each module's Examples, from the module cache as a user gets them.
failed=0
for p in "${paths[@]}"; do
	out=$(go test -count=1 -run '^Example' -v "$p" 2>&1) || {
		echo "$out"
		echo "proxytest: the examples of $p@$version fail"
		failed=1
		continue
	}
	ran=$(grep -c '^--- PASS: Example' <<<"$out" || true)
	echo "ok   $p@$version: $ran examples ran"
	if grep -q '// Output:' "$GOMODCACHE/$p@$version"/*_test.go 2>/dev/null && [ "$ran" -eq 0 ]; then
		echo "proxytest: $p@$version has examples with output, and none ran"
		failed=1
	fi
done
[ "$failed" -eq 0 ]
echo "proxytest: ${#paths[@]} modules resolved at $version from $proxy alone"
