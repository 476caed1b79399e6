#!/usr/bin/env bash
# Make sure Debian's Chromium is installed: the report and approval-page tests (tests/report/,
# tests/scheduler/) take headless screenshots with it. `make test` runs it first;
# CLOB_PIPELINE_SKIP_BROWSER_TESTS=1 skips both the install and those tests.
exec bash "$(dirname "$0")/apt_ensure.sh" "Chromium" CLOB_PIPELINE_SKIP_BROWSER_TESTS \
  'command -v chromium >/dev/null' chromium fonts-dejavu-core
