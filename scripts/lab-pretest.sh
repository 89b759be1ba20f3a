#!/usr/bin/env bash
# npm test's preparation of the kernel lab (after scripts/setup-debian.sh): builds the lab kernel and the KVM
# selftests into the cache (~/.cache/gmem-spec/lab) when they are missing, saying so, so the lab tests run.
# A cached lab costs nothing here. On a developer machine it never fails npm test: when the lab cannot be
# built (no network, no QEMU, no build tools) it says why, and the lab tests SKIP with that reason. In CI
# (CI=true) the lab is required: a lab that cannot be built fails the run here, loudly, instead of skipping.
# GMEM_SPEC_NO_LAB=1 skips it (the lab tests then SKIP unless a lab is already cached).
set -u
cd "$(dirname "$0")/.."
if [ -n "${GMEM_SPEC_NO_LAB:-}" ]; then
  echo "lab-pretest: GMEM_SPEC_NO_LAB is set: not building the lab"
  exit 0
fi
start=$(date +%s)
echo "lab-pretest: making sure the lab kernel is built (a cold build takes about 10 minutes on 2 cores; cached: instant)"
required=false
[ "${CI:-}" = true ] && required=true
if ! node bin/gmem-spec.mjs lab build; then
  if $required; then
    echo "lab-pretest: CI=true and the lab kernel could not be built (the line above says why)"
    exit 1
  fi
  echo "lab-pretest: the lab kernel could not be built (the line above says why); the lab tests will SKIP"
  exit 0
fi
if ! node bin/gmem-spec.mjs lab selftests --build-only; then
  echo "lab-pretest: the KVM selftests could not be built (the line above says why); their test will fail"
  $required && exit 1
fi
echo "lab-pretest: lab ready in $(( $(date +%s) - start )) s"
