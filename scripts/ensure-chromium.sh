#!/usr/bin/env bash
# Installs Debian's chromium for the report browser test (test/report.browser.test.ts), only if it is missing.
# Idempotent: a machine that already has /usr/bin/chromium is left alone. Never fails the caller: without
# chromium the browser test prints "SKIP: no chromium (...)" and is skipped.
set -u
if [ -x /usr/bin/chromium ]; then
  echo "ensure-chromium: /usr/bin/chromium present ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: cannot install chromium here (not root or no apt-get); the browser test will be skipped"
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >/tmp/ensure-chromium.log 2>&1; then
  apt-get update >>/tmp/ensure-chromium.log 2>&1 || true
  apt-get install -y --no-install-recommends chromium >>/tmp/ensure-chromium.log 2>&1 || {
    echo "ensure-chromium: apt-get install chromium failed (see /tmp/ensure-chromium.log); the browser test will be skipped"
    exit 0
  }
fi
echo "ensure-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
