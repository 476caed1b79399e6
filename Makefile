# Two commands on a fresh machine: `make demo` (discovery, backfill, promotion, health on chDB + the emulator)
# and `make test`. Both create .venv and install the pinned requirements first; `make test` also
# installs Debian's postgresql when missing (the real-scheduler test starts its own cluster from it).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt | cksum | cut -d' ' -f1)

COMPOSE_SPEC := $(VENV)/compose-spec/.downloaded

.PHONY: venv demo test lint postgres chromium bench constraints clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

# The Compose specification's JSON schema (inside docker-compose 1.29.2's wheel; downloaded, not installed).
$(COMPOSE_SPEC): requirements-compose-spec.txt | $(STAMP)
	$(BIN)/python -m pip download -q --disable-pip-version-check --no-deps --require-hashes \
	  -r requirements-compose-spec.txt -d $(VENV)/compose-spec
	touch $(COMPOSE_SPEC)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .

# Debian's PostgreSQL server binaries for the real-scheduler test (installs them when missing and root;
# CLOB_PIPELINE_SKIP_SCHEDULER_TEST=1 skips both the install and that test).
postgres:
	bash scripts/ensure_postgres.sh

# Debian's chromium for the report and approval-page screenshots (installs it when missing and root;
# CLOB_PIPELINE_SKIP_BROWSER_TESTS=1 skips both the install and those tests).
chromium:
	bash scripts/ensure_chromium.sh

# Tests in parallel (pytest-xdist): TEST_WORKERS processes, each with its own chDB folder and Airflow
# home (tests/conftest.py); the real-scheduler tests start first on one worker. Prints the ten slowest.
TEST_WORKERS ?= 3  # 3 on 2 cores: the tests wait (Airflow, chDB, the emulator) more than they compute
test: $(STAMP) $(COMPOSE_SPEC) lint postgres chromium
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --durations=10

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

constraints: $(STAMP)
	( echo "# Full pinned environment (pip freeze of requirements-dev.txt on Python 3.11). Regenerate with: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable ) > constraints.txt

clean:
	rm -rf .airflow .data .pytest_cache
