"""docker-compose.yaml, Dockerfile and .env.example checked without a Docker engine: the file
against the Compose specification's JSON schema, and its services, mounts, connections and pools
against what the bundle uses."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from clob_pipeline.config import (
    ALERTS_WEBHOOK_CONN_ID,
    CLICKHOUSE_CONN_ID,
    CLICKHOUSE_POOL,
    CLOB_CONN_ID,
    DATA_API_CONN_ID,
    GAMMA_CONN_ID,
    POLYGON_RPC_CONN_ID,
)

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / ".venv" / "compose-spec"
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-init"}
_VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} substitution (``$$`` stays a literal ``$``)."""

    def sub(m: re.Match) -> str:
        name, kind, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if kind == "?":
            raise AssertionError(f"${{{name}}} is required but .env.example leaves it empty")
        return arg or ""

    return _VAR.sub(sub, text.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(interpolate((ROOT / "docker-compose.yaml").read_text(), env_example()))


@pytest.fixture(scope="module")
def compose_spec() -> dict:
    """The Compose specification's JSON schema, from the wheel `make test` downloads."""
    wheels = sorted(SPEC_DIR.glob("docker_compose-*.whl"))
    assert wheels, f"no Compose spec under {SPEC_DIR}: run `make test`, which downloads it (requirements-compose-spec.txt)"
    with zipfile.ZipFile(wheels[0]) as wheel:
        return json.loads(wheel.read("compose/config/compose_spec.json"))


def test_compose_file_follows_the_compose_specification(compose, compose_spec):
    jsonschema.validate({k: v for k, v in compose.items() if not k.startswith("x-")}, compose_spec)


def test_compose_spec_validation_is_not_vacuous(compose_spec):
    schema = compose_spec
    schema_errors = []
    for bad in ({"services": {"a": {"image": 3}}}, {"services": {"a": {"depends_on": {"b": {"condition": "nope"}}}}}):
        try:
            jsonschema.validate(bad, schema)
        except jsonschema.ValidationError as exc:
            schema_errors.append(exc.message)
    assert len(schema_errors) == 2


def test_services_mounts_and_executor(compose):
    services = compose["services"]
    assert AIRFLOW_SERVICES | {"postgres", "clickhouse"} <= set(services)
    assert re.fullmatch(r"clickhouse/clickhouse-server:\d+\.\d+(\.\d+)*", services["clickhouse"]["image"])  # pinned
    chdb = re.search(r"^chdb-core==(\d+\.\d+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert services["clickhouse"]["image"].endswith(":" + chdb)  # the release the tests run (as chDB)
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert svc["build"] == "." and svc["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
        mounts = {m.split(":")[0]: m.split(":")[1] for m in svc["volumes"]}
        assert {"./dags", "./plugins", "./include"} <= set(mounts), name
        assert mounts["./include"] == "/opt/airflow/include"
        assert svc["environment"]["CLOB_PIPELINE_SQL_DIR"] == mounts["./include"] + "/sql"
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES - {"airflow-init"}}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
    }


def test_connections_are_the_ones_the_dags_use_and_hold_no_secret(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    conns = {
        key.removeprefix("AIRFLOW_CONN_").lower(): json.loads(value)
        for key, value in env.items()
        if key.startswith("AIRFLOW_CONN_")
    }
    assert set(conns) == {CLICKHOUSE_CONN_ID, DATA_API_CONN_ID, CLOB_CONN_ID, GAMMA_CONN_ID}
    assert conns[DATA_API_CONN_ID]["host"] == "https://data-api.polymarket.com"  # real hosts by default
    assert conns[CLOB_CONN_ID]["host"] == "https://clob.polymarket.com"
    assert conns[CLICKHOUSE_CONN_ID]["host"] == "clickhouse" and conns[CLICKHOUSE_CONN_ID]["schema"] == "polymarket"
    raw = (ROOT / "docker-compose.yaml").read_text()
    for secret in ("POLYMARKET_CLOB_SECRET", "POLYMARKET_CLOB_API_KEY", "POLYMARKET_CLOB_PASSPHRASE", "CLICKHOUSE_PASSWORD"):
        assert f"${{{secret}" in raw  # from .env, never written into the file
    assert ALERTS_WEBHOOK_CONN_ID.upper() in (ROOT / ".env.example").read_text()
    assert f"AIRFLOW_CONN_{POLYGON_RPC_CONN_ID.upper()}=" in (ROOT / ".env.example").read_text()  # optional: chain source
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_every_variable_the_file_uses_is_documented_in_env_example():
    used = {m.group(1) for m in _VAR.finditer((ROOT / "docker-compose.yaml").read_text().replace("$$", ""))}
    assert used <= set(env_example()), used - set(env_example())


def test_init_creates_every_pool_the_dags_use(compose, dagbag):
    script = "\n".join(compose["services"]["airflow-init"]["command"])
    created = set(re.findall(r"airflow pools set (\S+)", script))
    used = {task.pool for dag in dagbag.dags.values() for task in dag.tasks} - {"default_pool"}
    assert used == {CLICKHOUSE_POOL} and used <= created


def test_dockerfile_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2" in dockerfile
    assert "-r /opt/clob-pipeline/requirements.txt" in dockerfile
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in (ROOT / "docker-compose.yaml").read_text()
