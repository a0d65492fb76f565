#!/usr/bin/env bash
# Runs every module's checks: gofmt; the Go version floor; no stale replace
# directive; the files of every package in layers (scripts/filelayers); for
# each module that go.work lists go mod tidy -diff, go vet, staticcheck and
# go test -race;
# a short run of every fuzz target; and the release test (scripts/proxytest.sh).
# This is the README's test command and what .ci/run calls.
#
# Tests that need Redis or Postgres find them through storagetest/containers
# (Docker, or SESSIONKIT_REDIS_ADDR / SESSIONKIT_POSTGRES_DSN); without either
# they skip, unless SESSIONKIT_REQUIRE_SERVERS=1 turns the skip into a failure.
#
# Environment: FUZZTIME (default 20000x: executions per fuzz target; a count,
# not a duration, because a duration-bound fuzz run can fail with "context
# deadline exceeded" on a loaded machine; 0 skips fuzzing),
# GOTESTFLAGS (extra flags for go test), PROXYTEST (0 skips the release test).
set -uo pipefail
cd "$(dirname "$0")/.."

# The toolchain on PATH, never one the go lines would make the go command
# download: the checks below are only worth something with the Go version
# the modules declare as their floor.
export GOTOOLCHAIN=local
# staticcheck at a pinned version, from the Go module proxy.
staticcheck_version=v0.8.2
# Modules staticcheck does not check, space-separated with a space at each
# end (" path/a path/b "): none today.
staticcheck_skip=" "

fuzztime=${FUZZTIME:-20000x}
modules=$(go work edit -json | sed -n 's/.*"DiskPath": "\(.*\)".*/\1/p')
passed=0
failed=0
failures=()

step() { # name, command...
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
}

unformatted=$(gofmt -l $modules)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"
	echo "$unformatted"
	failed=$((failed + 1))
	failures+=("gofmt")
else
	passed=$((passed + 1))
fi

# One floor: go.work and every go.mod declare the same go line, and the
# local toolchain is of that minor version, so every build and test below
# is a build and test with the minimum Go version.
floor() {
	local want have mod line
	want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.work)
	have=$(go env GOVERSION)
	have=${have#go}
	if [ "${have%.*}" != "${want%.*}" ]; then
		echo "go.work declares go $want; the local toolchain is go$have, of another minor version"
		return 1
	fi
	for mod in $modules; do
		line=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$mod/go.mod")
		if [ "$line" != "$want" ]; then
			echo "$mod/go.mod declares go $line; go.work declares go $want"
			return 1
		fi
	done
	echo "every module declares go $want; building with go$have"
}
step "go floor" floor

# go mod tidy keeps replace directives that nothing needs (storage/postgres
# kept one for storagetest): every replace must name a module of the graph.
replaces() {
	local mod graph old bad=0
	for mod in $modules; do
		graph=$(cd "$mod" && GOWORK=off go list -m all | cut -d' ' -f1) || return 1
		for old in $(sed -n 's/^\(replace \)\{0,1\}[[:space:]]*\([^ ]*\) => .*/\2/p' "$mod/go.mod"); do
			if ! grep -qxF "$old" <<<"$graph"; then
				echo "$mod/go.mod replaces $old, which is not in its module graph"
				bad=1
			fi
		done
	done
	return "$bad"
}
step "replace directives" replaces

# The files of every package stand in layers: no file uses, directly or
# through others, a name declared in a file that uses it back
# (scripts/filelayers, which tests itself first).
layers() {
	local dirs
	dirs=$(for mod in $modules; do (cd "$mod" && go list -f '{{.Dir}}' ./...) || return 1; done | sed "s#^$PWD/##")
	GOWORK=off go test -count=1 scripts/filelayers/main.go scripts/filelayers/main_test.go &&
		GOWORK=off go run scripts/filelayers/main.go $dirs
}
step "file layers" layers

staticcheck_bin=$(mktemp -d)
trap 'rm -rf "$staticcheck_bin"' EXIT
step "install staticcheck $staticcheck_version" env GOBIN="$staticcheck_bin" GOWORK=off \
	go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"

for mod in $modules; do
	step "tidy $mod" bash -c "cd '$mod' && go mod tidy -diff"
	step "vet $mod" bash -c "cd '$mod' && go vet ./..."
	if [[ $staticcheck_skip != *" ${mod#./} "* ]]; then
		step "staticcheck $mod" bash -c "cd '$mod' && '$staticcheck_bin/staticcheck' ./..."
	fi
	# -count=1: results cached from an earlier run would hide what a server
	# or the machine does today.
	step "test $mod" bash -c "cd '$mod' && go test -race -count=1 -timeout 20m ${GOTESTFLAGS:-} ./..."
done

if [ "$fuzztime" != "0" ]; then
	# Every Fuzz function in the tree, each for a short time from its
	# committed seed corpus.
	while IFS= read -r line; do
		file=${line%%:*}
		fn=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"${line#*:}")
		dir=$(dirname "$file")
		mod=$dir
		until [ -f "$mod/go.mod" ]; do mod=$(dirname "$mod"); done
		pkg=./$(realpath --relative-to="$mod" "$dir")
		step "fuzz $fn ($fuzztime)" bash -c "cd '$mod' && go test -run '^\$' -fuzz '^$fn\$' -fuzztime '$fuzztime' '$pkg'"
	done < <(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' $modules | sort -u)
fi

if [ "${PROXYTEST:-1}" != "0" ]; then
	# After the module tests, so the module cache already holds every
	# third-party module the released ones need.
	step "release test (proxytest)" bash scripts/proxytest.sh
fi

echo
if [ "$failed" -gt 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
