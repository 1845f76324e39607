#!/usr/bin/env bash
# Starts the services the tests need, when they are not running: the Docker engine.
set -euo pipefail

if ! docker version >/dev/null 2>&1; then
  echo "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/cguard-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker version >/dev/null 2>&1 && break
    sleep 1
  done
  docker version >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/cguard-dockerd.log"; tail -20 /var/log/cguard-dockerd.log; exit 1; }
fi
echo "docker engine: $(docker version --format '{{.Server.Version}}')"
