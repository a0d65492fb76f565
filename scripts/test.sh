#!/usr/bin/env bash
# Runs every module's checks: gofmt, go vet and go test -race for each module
# that go.work lists, then a short run of every fuzz target. This is the
# README's test command and what .ci/run calls.
#
# Tests that need Redis or Postgres find them through storagetest/containers
# (Docker, or SESSIONKIT_REDIS_ADDR / SESSIONKIT_POSTGRES_DSN); without either
# they skip, unless SESSIONKIT_REQUIRE_SERVERS=1 turns the skip into a failure.
#
# Environment: FUZZTIME (default 20000x: executions per fuzz target; a count,
# not a duration, because a duration-bound fuzz run can fail with "context
# deadline exceeded" on a loaded machine; 0 skips fuzzing),
# GOTESTFLAGS (extra flags for go test).
set -uo pipefail
cd "$(dirname "$0")/.."

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

for mod in $modules; do
	step "vet $mod" bash -c "cd '$mod' && go vet ./..."
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

echo
if [ "$failed" -gt 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
