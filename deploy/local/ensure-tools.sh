#!/usr/bin/env bash
# Installs the Debian tools the test suite uses when they are missing: Prometheus and promtool (the
# real-Prometheus scrape test and the alert-rule tests), and PostgreSQL's server (FerretDB's storage,
# which deploy/local/backends.sh initialises and starts on its own port). Idempotent; needs root (as CI
# and the dev machines have) and Debian's package archive.
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# Debian puts initdb and postgres under /usr/lib/postgresql/<major>/bin, not on PATH.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "[ensure-tools] installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package's service is not wanted: tests start their own server on their own port.
  pkill -x prometheus 2>/dev/null || true
  # Nor is the cluster the postgresql package may have created and started (port 5432).
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _port status _rest; do
      if [ "$status" = online ]; then pg_ctlcluster "$version" "$cluster" stop -m fast || true; fi
    done
  fi
fi
