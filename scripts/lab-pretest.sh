#!/usr/bin/env bash
# npm test's preparation of the kernel lab (after scripts/setup-debian.sh): builds the lab kernel and the KVM
# selftests into the cache (~/.cache/gmem-spec/lab) when they are missing, saying so, so the lab tests run.
# A cached lab costs nothing here. Never fails npm test: when the lab cannot be built (no network, no
# QEMU, no build tools) it says why, and the lab tests SKIP with that reason.
# GMEM_SPEC_NO_LAB=1 skips it (the lab tests then SKIP unless a lab is already cached).
set -u
cd "$(dirname "$0")/.."
if [ -n "${GMEM_SPEC_NO_LAB:-}" ]; then
  echo "lab-pretest: GMEM_SPEC_NO_LAB is set: not building the lab"
  exit 0
fi
start=$(date +%s)
echo "lab-pretest: making sure the lab kernel is built (a cold build takes about 10 minutes on 2 cores; cached: instant)"
if ! node bin/gmem-spec.mjs lab build; then
  echo "lab-pretest: the lab kernel could not be built (the line above says why); the lab tests will SKIP"
  exit 0
fi
if ! node bin/gmem-spec.mjs lab selftests --build-only; then
  echo "lab-pretest: the KVM selftests could not be built (the line above says why); their test will fail"
fi
echo "lab-pretest: lab ready in $(( $(date +%s) - start )) s"
