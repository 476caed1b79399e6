#!/usr/bin/env bash
# Make sure Debian's Chromium is installed: the report and approval-page tests
# (tests/report/, tests/scheduler/) take headless screenshots with it. Idempotent: does nothing when
# it is there. `make test` runs it first, so CI on a fresh machine (root) installs it; elsewhere it
# says what to install. CLOB_PIPELINE_SKIP_BROWSER_TESTS=1 skips both the install and those tests.
set -euo pipefail
[ "${CLOB_PIPELINE_SKIP_BROWSER_TESTS:-}" = 1 ] && exit 0
if command -v chromium >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is missing: run 'sudo apt-get install -y chromium fonts-dejavu-core', or skip the" >&2
  echo "browser tests with CLOB_PIPELINE_SKIP_BROWSER_TESTS=1." >&2
  exit 1
fi
echo "installing Chromium from the distribution's packages (apt-get install chromium)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
