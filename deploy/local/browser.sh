#!/usr/bin/env bash
# Installs Debian's chromium and a CJK font for the dashboard's browser test, once: nothing happens when it is there.
# Playwright drives this binary (executable_path=/usr/bin/chromium); it never downloads a browser itself.
set -euo pipefail
FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc  # the dashboard is in Chinese
if [ -x /usr/bin/chromium ] && [ -f "$FONT" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
test -x /usr/bin/chromium && test -f "$FONT"
