#!/usr/bin/env bash
# Starts the services the tests need, when they are not running: the Docker engine and
# PostgreSQL.
set -euo pipefail

# The shield's runtime wrapper, registered with the engine as runtime `cguard`
# (`docker run --runtime cguard`): the tests point the path at the cguard binary they built.
runtime_path=/usr/local/lib/cguard/cguard-runc
mkdir -p /etc/docker "$(dirname "$runtime_path")"
python3 - "$runtime_path" <<'PY'
import json, os, sys
path = "/etc/docker/daemon.json"
config = {}
if os.path.exists(path):
    with open(path) as f:
        config = json.load(f)
want = {"path": sys.argv[1]}
if config.get("runtimes", {}).get("cguard") != want:
    config.setdefault("runtimes", {})["cguard"] = want
    with open(path + ".tmp", "w") as f:
        json.dump(config, f, indent=2)
    os.replace(path + ".tmp", path)
PY

if docker version >/dev/null 2>&1 && ! docker info --format '{{json .Runtimes}}' | grep -q '"cguard"'; then
  echo "dockerd: reloading its configuration (runtime cguard)"
  kill -HUP "$(pidof dockerd)"
  for _ in $(seq 1 20); do
    docker info --format '{{json .Runtimes}}' | grep -q '"cguard"' && break
    sleep 0.5
  done
fi

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

# PostgreSQL (Debian's cluster) for the server tests. The tests connect as a role that may
# create databases; its password is random, made here, and kept in .cache (mode 0600).
url_file="$(cd "$(dirname "$0")/.." && pwd)/.cache/postgres-test-url"
pg_version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
if [ -z "$pg_version" ]; then echo "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; fi
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$pg_version main"; then
  pg_createcluster "$pg_version" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^$pg_version main .* online"; then
  echo "starting PostgreSQL $pg_version"
  pg_ctlcluster "$pg_version" main start
fi
port=$(pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" {print $3}')
if [ ! -s "$url_file" ] || ! psql "$(cat "$url_file")" -qAtc "select 1" >/dev/null 2>&1; then
  mkdir -p "$(dirname "$url_file")"
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  su postgres -c "psql -q -p $port" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cguard_test') THEN
    CREATE ROLE cguard_test LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE cguard_test PASSWORD '$password';
-- Dropping a scratch database WITH (FORCE) ends the sessions still connected to it.
GRANT pg_signal_backend TO cguard_test;
SQL
  (umask 077; echo "postgres://cguard_test:$password@127.0.0.1:$port/postgres" > "$url_file")
fi
echo "postgresql: $pg_version on port $port"
