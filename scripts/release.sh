#!/usr/bin/env bash
# Prepares a release: every module of scripts/released requires its
# siblings at VERSION, the change is committed, and each released module is
# tagged <folder>/VERSION (sessions/v0.1.0, storage/redis/v0.1.0, ...), the
# way multi-module repositories such as go-cloud, aws-sdk-go-v2 and
# opentelemetry-go tag theirs. It never pushes: check the tags, then push
# them yourself (git push origin --tags).
#
#	scripts/release.sh [-n] VERSION
#
# -n prints what it would do and changes nothing. Run scripts/test.sh first:
# its release test builds every module at VERSION from a local proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

dry=
if [ "${1:-}" = "-n" ]; then
	dry=echo
	shift
fi
version=${1:-}
if ! [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
	echo "usage: scripts/release.sh [-n] vMAJOR.MINOR.PATCH" >&2
	exit 2
fi
if [[ $version != v0.* && $version != v1.* ]]; then
	echo "release: $version needs a /vN suffix on every module path first" >&2
	exit 1
fi
if [ -z "$dry" ] && [ -n "$(git status --porcelain)" ]; then
	echo "release: the work tree has changes; commit or stash them first" >&2
	exit 1
fi

mapfile -t released < <(grep -v '^#' scripts/released | grep .)
declare -A path_of
for mod in "${released[@]}"; do
	path_of[$mod]=$(cd "$mod" && GOWORK=off go list -m)
	tag=$mod/$version
	if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
		echo "release: tag $tag exists already" >&2
		exit 1
	fi
done

# Every module of the workspace that requires a released sibling, released
# or not, so that benchmarks, examples and the integration modules follow.
all=$(go work edit -json | sed -n 's/.*"DiskPath": "\(.*\)".*/\1/p')
for dir in $all; do
	for mod in "${released[@]}"; do
		p=${path_of[$mod]}
		if (cd "$dir" && go mod edit -json) | grep -q "\"Path\": \"$p\""; then
			# Only requirements: the replace directives stay, and consumers
			# never see them.
			if (cd "$dir" && go mod edit -json) | grep -A1 "\"Path\": \"$p\"" | grep -q '"Version"'; then
				$dry go -C "$dir" mod edit -require="$p@$version"
			fi
		fi
	done
done
if [ -z "$dry" ]; then
	for dir in $all; do
		(cd "$dir" && go mod tidy)
	done
	if [ -n "$(git status --porcelain)" ]; then
		git commit -qam "release $version"
	fi
fi
for mod in "${released[@]}"; do
	$dry git tag -a "$mod/$version" -m "${path_of[$mod]} $version"
done
if [ -n "$dry" ]; then
	echo "release: would tag ${#released[@]} modules at $version; changed nothing"
else
	echo "release: tagged ${#released[@]} modules at $version on $(git rev-parse --short HEAD); nothing was pushed"
fi
