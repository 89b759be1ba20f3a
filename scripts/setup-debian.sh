#!/usr/bin/env bash
# The one set-up script for the Debian packages gmem-spec needs beyond Node. It says what it installs and
# why, installs only what is missing (idempotent), and never fails the caller: without root or apt-get it
# lists what is missing and exits 0, so the tests that need those packages SKIP with their reason.
#
#   bash scripts/setup-debian.sh            everything below
#   bash scripts/setup-debian.sh --check    only say what is missing (installs nothing)
#
# Packages, by why they are needed:
#   lab kernel build (gmem-spec lab build):  make gcc libc6-dev bc flex bison libelf-dev libssl-dev xz-utils perl
#   lab VM (gmem-spec lab exec, --backend lab): qemu-system-x86 busybox-static cpio
#   native helper and lab tools (static):    gcc libc6-dev (libc.a)
#   report browser test:                     chromium
set -u

check_only=false
[ "${1:-}" = "--check" ] && check_only=true

# "package|the file that shows it is installed|why"
wanted=(
  "make|/usr/bin/make|lab kernel build"
  "gcc|/usr/bin/gcc|lab kernel build, native helper"
  "libc6-dev|/usr/lib/x86_64-linux-gnu/libc.a|static native helper and lab tools"
  "bc|/usr/bin/bc|lab kernel build"
  "flex|/usr/bin/flex|lab kernel build (kconfig)"
  "bison|/usr/bin/bison|lab kernel build (kconfig)"
  "libelf-dev|/usr/include/gelf.h|lab kernel build (objtool)"
  "libssl-dev|/usr/include/openssl/ssl.h|lab kernel build (certificate tools)"
  "xz-utils|/usr/bin/xz|unpacking linux-source"
  "perl|/usr/bin/perl|lab kernel build"
  "cpio|/usr/bin/cpio|lab initramfs checks"
  "busybox-static|/bin/busybox|lab VM userspace"
  "qemu-system-x86|/usr/bin/qemu-system-x86_64|booting the lab VM"
  "chromium|/usr/bin/chromium|report browser test"
)

missing=()
for w in "${wanted[@]}"; do
  IFS='|' read -r pkg file why <<<"$w"
  if [ ! -e "$file" ]; then
    missing+=("$pkg")
    echo "setup-debian: missing $pkg (for: $why)"
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-debian: all ${#wanted[@]} packages present (lab build and VM, native helper, report browser test)"
  exit 0
fi
if $check_only; then
  echo "setup-debian: --check: not installing ${missing[*]}"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-debian: cannot install here ($( [ "$(id -u)" != 0 ] && echo 'not root' || echo 'no apt-get')); as root run: apt-get install ${missing[*]}"
  echo "setup-debian: the tests that need them will SKIP with the reason"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/setup-debian.XXXXXX.log)
echo "setup-debian: apt-get install --no-install-recommends ${missing[*]} (log: $log)"
start=$(date +%s)
if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  echo "setup-debian: first attempt failed; running apt-get update and trying again"
  apt-get update >>"$log" 2>&1 || true
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    echo "setup-debian: apt-get install failed: $(tail -n 2 "$log" | tr '\n' ' ')"
    echo "setup-debian: the tests that need ${missing[*]} will SKIP with the reason"
    exit 0
  fi
fi
echo "setup-debian: installed ${missing[*]} in $(( $(date +%s) - start )) s"
