#!/usr/bin/env bash
# test-images.sh builds the Redis and Postgres images that sessionkit's
# integration tests run, offline: the build machines reach Debian's package
# archive but no container registry, so nothing is pulled.
#
#   sessionkit/base:bookworm         debootstrap (minbase) + redis + postgresql-15, via docker import
#   sessionkit/redis:bookworm        redis-server on 6379, protected mode off, no persistence
#   sessionkit/postgres:15-bookworm  PostgreSQL 15 on 5432, data directory pre-initialised, trust auth
#
# Each image is skipped when `docker image inspect` finds it, so a re-run
# takes seconds; remove an image (docker rmi) to rebuild it. The first build
# takes about 75 s for debootstrap plus a few seconds per image. Needs root
# (debootstrap) and a docker engine (scripts/ensure-docker.sh).
#
# SESSIONKIT_IMAGE_PREFIX (default "sessionkit") replaces the "sessionkit"
# repository prefix, to build a second set without touching the first.
#
# Prints the two image names on stdout, one per line; progress goes to stderr.
#
# Afterwards, point the tests at the images:
#
#   export SESSIONKIT_REDIS_IMAGE=sessionkit/redis:bookworm
#   export SESSIONKIT_POSTGRES_IMAGE=sessionkit/postgres:15-bookworm
#   export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${SESSIONKIT_IMAGE_PREFIX:-sessionkit}"
base="$prefix/base:bookworm"
redis="$prefix/redis:bookworm"
postgres="$prefix/postgres:15-bookworm"

say() { printf 'test-images: %s\n' "$*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! docker info >/dev/null 2>&1; then
	say "no docker engine answers; run scripts/ensure-docker.sh first"
	exit 1
fi

# mirror prints the Debian archive to debootstrap from: the first URIs: line
# of the deb822 sources (skipping the security archive), else the first deb
# line of sources.list, else the public mirror.
mirror() {
	local m=""
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		m="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
	fi
	if [ -z "$m" ] && [ -r /etc/apt/sources.list ]; then
		m="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
	fi
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

rootfs=""
cleanup() {
	if [ -n "$rootfs" ] && [ -d "$rootfs" ]; then
		# An interrupted debootstrap can leave /proc or /sys mounted inside
		# the root file system: unmount before removing, deepest first, so
		# rm never walks into the host's /proc.
		awk -v r="$rootfs/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r |
			while read -r m; do umount -l "$m" || true; done
		rm -rf --one-file-system "$rootfs"
	fi
}
trap cleanup EXIT

build_base() {
	if ! command -v debootstrap >/dev/null 2>&1; then
		say "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >&2
	fi
	# /var/tmp, not /tmp: the root file system needs a file system that
	# allows device nodes and executables, and it is large (~300 MB).
	rootfs="$(mktemp -d /var/tmp/sessionkit-rootfs.XXXXXX)"
	local m
	m="$(mirror)"
	say "debootstrap bookworm from $m (about 75 s)"
	debootstrap --variant=minbase --include=redis-server,redis-tools,postgresql-15 \
		bookworm "$rootfs" "$m" >"$rootfs.log" 2>&1 || {
		say "debootstrap failed; last lines of its log:"
		tail -n 30 "$rootfs.log" >&2
		rm -f "$rootfs.log"
		exit 1
	}
	rm -f "$rootfs.log"
	# Package caches and lists, documentation and message translations are
	# dead weight in a test image; the cluster the Debian package creates is
	# unused (the postgres image makes its own).
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
		"$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
		"$rootfs"/usr/share/locale/* \
		"$rootfs"/var/lib/postgresql/15/main "$rootfs"/etc/postgresql/15/main
	say "importing $base"
	tar -C "$rootfs" --numeric-owner -c . | docker import -c 'ENV LANG=C.UTF-8' - "$base" >/dev/null
	cleanup
	rootfs=""
}

build() { # build IMAGE DIR
	say "building $1"
	# The classic builder uses the local, imported base image as it is;
	# BuildKit would try to resolve it in a registry.
	DOCKER_BUILDKIT=0 docker build --quiet --build-arg "BASE=$base" -t "$1" "$2" >/dev/null
}

if have "$redis" && have "$postgres"; then
	say "images present, nothing to build"
else
	have "$base" || build_base
	have "$redis" || build "$redis" "$here/images/redis"
	have "$postgres" || build "$postgres" "$here/images/postgres"
fi

printf '%s\n' "$redis" "$postgres"
cat >&2 <<MSG
test-images: for the integration tests, export (see storagetest/containers/README.md):
  SESSIONKIT_REDIS_IMAGE=$redis
  SESSIONKIT_POSTGRES_IMAGE=$postgres
  TESTCONTAINERS_RYUK_DISABLED=true
  TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
MSG
