#!/usr/bin/env bash
# Make sure Debian's PostgreSQL server binaries are installed (initdb, pg_ctl): the real-scheduler
# test (tests/scheduler/) starts a throwaway Postgres cluster of its own as the Airflow metadata DB.
# Idempotent: does nothing when they are there. `make test` runs it first, so CI on a fresh machine
# (root) installs them; elsewhere it says what to install.
set -euo pipefail
[ "${CLOB_PIPELINE_SKIP_SCHEDULER_TEST:-}" = 1 ] && exit 0
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries are missing: run 'sudo apt-get install -y postgresql', or skip the" >&2
  echo "real-scheduler test with CLOB_PIPELINE_SKIP_SCHEDULER_TEST=1." >&2
  exit 1
fi
echo "installing PostgreSQL from the distribution's packages (apt-get install postgresql)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
