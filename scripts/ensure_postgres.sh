#!/usr/bin/env bash
# Make sure Debian's PostgreSQL server binaries are installed (initdb, pg_ctl): the real-scheduler
# test (tests/scheduler/) starts a throwaway Postgres cluster of its own as the Airflow metadata DB.
# `make test` runs it first; CLOB_PIPELINE_SKIP_SCHEDULER_TEST=1 skips both the install and that test.
exec bash "$(dirname "$0")/apt_ensure.sh" "PostgreSQL server binaries" CLOB_PIPELINE_SKIP_SCHEDULER_TEST \
  'compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null' postgresql
