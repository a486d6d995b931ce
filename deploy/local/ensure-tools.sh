#!/usr/bin/env bash
# Installs the Debian tools the test suite uses when they are missing: Prometheus and promtool (the
# real-Prometheus scrape test and the alert-rule tests). Idempotent; needs root (as CI and the dev
# machines have) and Debian's package archive.
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "[ensure-tools] installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package's service is not wanted: tests start their own server on their own port.
  pkill -x prometheus 2>/dev/null || true
fi
