#!/usr/bin/env bash
# ensure-docker.sh makes sure a Docker engine answers `docker info`.
#
# Quick (one `docker info`) when an engine already answers. Otherwise it
# installs docker.io from Debian if the client or daemon is missing, starts
# dockerd as root in the background, and waits up to
# SESSIONKIT_DOCKER_WAIT seconds (default 60) for it to answer.
#
# dockerd gets HTTP_PROXY/HTTPS_PROXY pointing at a closed local port: the
# build machines reach no image registry, so an accidental pull must fail at
# once instead of hanging until a timeout. Its log goes to
# SESSIONKIT_DOCKERD_LOG (default /var/log/sessionkit-dockerd.log).
#
# Exit status: 0 when `docker info` answers, non-zero with a message on stderr
# otherwise. Safe to run any number of times.
set -euo pipefail

wait_secs="${SESSIONKIT_DOCKER_WAIT:-60}"
log="${SESSIONKIT_DOCKERD_LOG:-/var/log/sessionkit-dockerd.log}"

say() { printf 'ensure-docker: %s\n' "$*" >&2; }

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	say "docker engine answers"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	say "no docker engine answers and this is not root: cannot install or start dockerd"
	say "start a docker engine (or run this script as root) and try again"
	exit 1
fi

if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
	say "installing docker.io from Debian"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y docker.io
fi

# A client configured for a remote engine (DOCKER_HOST) is not ours to start.
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
	say "DOCKER_HOST=${DOCKER_HOST} does not answer; not starting a local dockerd for it"
	exit 1
fi

if pgrep -x dockerd >/dev/null 2>&1; then
	say "dockerd is already running but not answering yet; waiting"
else
	say "starting dockerd (log: ${log})"
	mkdir -p "$(dirname "$log")"
	# setsid + nohup: the daemon must outlive this script and its caller's
	# terminal; the proxy variables make accidental pulls fail fast.
	HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
	http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
	NO_PROXY= no_proxy= \
		setsid nohup dockerd >>"$log" 2>&1 </dev/null &
fi

deadline=$((SECONDS + wait_secs))
while [ "$SECONDS" -lt "$deadline" ]; do
	if docker info >/dev/null 2>&1; then
		say "docker engine answers"
		exit 0
	fi
	sleep 1
done

say "docker engine did not answer within ${wait_secs}s; last lines of ${log}:"
tail -n 20 "$log" >&2 2>/dev/null || true
exit 1
