#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser test, once: nothing happens when it is there.
# Playwright drives this binary (executable_path=/usr/bin/chromium); it never downloads a browser itself.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x /usr/bin/chromium
