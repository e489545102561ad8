"""The Dockerfile and deploy/compose.yaml stay consistent with the code (issue 12).

Every `cardwise …` command they run exists in the Typer CLI with options that parse, every CARDWISE_*
variable they set is a field of `Settings` (and the values validate), and the ports agree: EXPOSE, the
health checks, `serve --port`, the proxy's upstream.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from importlib import metadata

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cardwise.config import Settings
from tests.deploy.support import (
    COMPOSE,
    DOCKERFILE,
    DOCKERIGNORE,
    ENV_EXAMPLE,
    NGINX_CONF,
    ROOT,
    Dockerfile,
    cli_command,
    health_port_and_path,
    option,
    settings_env_names,
)

INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
CARDWISE_ROLES = ("migrate", "api", "scheduler", "worker")


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return Dockerfile.parse(DOCKERFILE)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=VALUE in .env.example: {line!r}"
            values[key.strip()] = value.strip()
    return values


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` with the variables of .env.example."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group("name"), m.group("op"), m.group("arg")
        if name in env and (env[name] or not (op or "").startswith(":")):
            return env[name]
        assert op is not None and op.endswith("-"), f"${{{name}}} has no default and is not in .env.example"
        return arg or ""

    return INTERPOLATION.sub(one, value)


def cardwise_services(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items() if "build" in svc}


def image_command(dockerfile: Dockerfile, service: dict) -> list[str]:
    """What the container runs: the image's ENTRYPOINT with the service's command (or the image's CMD)."""
    entrypoint = service.get("entrypoint", dockerfile.exec_form("ENTRYPOINT"))
    command = service.get("command", dockerfile.exec_form("CMD"))
    assert isinstance(command, list), "use the list form for commands"
    return [*entrypoint, *command]


# ------------------------------------------------------------------------------------------------ Dockerfile


def test_dockerfile_is_multi_stage_on_python_311_slim_with_uv(dockerfile: Dockerfile) -> None:
    stages = dockerfile.stages()
    assert len(stages) >= 2, "build and runtime stages"
    base = dockerfile.all("ARG")[0]
    assert base == "PYTHON_IMAGE=python:3.11-slim"
    assert all(stage[0][1].startswith("${PYTHON_IMAGE}") for stage in stages)
    runs = " ".join(dockerfile.all("RUN"))
    assert "uv==${UV_VERSION}" in runs and "UV_VERSION=0.13.9" in dockerfile.all("ARG")
    bootstrap = (DOCKERFILE.parent / "scripts" / "bootstrap.sh").read_text()
    assert "UV_VERSION=0.13.9" in bootstrap, "the image pins the uv of scripts/bootstrap.sh"
    assert "uv sync --frozen --no-dev" in runs
    copied = {src for rest in dockerfile.all("COPY") if "--from=" not in rest for src in rest.split()[:-1]}
    assert copied == {"pyproject.toml", "uv.lock", "README.md", "src/"}


def test_dockerfile_runs_cardwise_serve_as_non_root(dockerfile: Dockerfile) -> None:
    assert dockerfile.exec_form("ENTRYPOINT") == ["cardwise"]
    cmd = dockerfile.exec_form("CMD")
    assert cmd == ["serve", "--host", "0.0.0.0"]
    path, _ = cli_command(cmd)
    assert path == ["serve"]
    user = dockerfile.last("USER").split(":")[0]
    assert user not in {"root", "0"}
    runtime = dockerfile.stages()[-1]
    assert [kw for kw, _ in runtime].index("USER") > max(i for i, (kw, _) in enumerate(runtime) if kw == "RUN")


def test_dockerfile_ports_and_health_check_agree(dockerfile: Dockerfile) -> None:
    exposed = {int(p.split("/")[0]) for rest in dockerfile.all("EXPOSE") for p in rest.split()}
    env = dockerfile.env()
    port, path = health_port_and_path(dockerfile.healthcheck_command())
    assert exposed == {port} == {int(env["CARDWISE_PORT"])} == {Settings(_env_file=None).port}
    assert path == "/healthz"


def test_dockerfile_env_is_settings_and_bakes_no_secret(dockerfile: Dockerfile) -> None:
    names = settings_env_names()
    env = dockerfile.env()
    for key in env:
        if key.startswith("CARDWISE_"):
            assert key in names, f"Dockerfile sets {key}, which is no setting"
    baked = [*env, *(a.split("=")[0] for a in dockerfile.all("ARG"))]
    assert not [k for k in baked if re.search(r"KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL", k)]


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    for entry in ("var/", ".venv/", ".tools/", ".airflow-venv/", ".git/", ".env", ".pytest_cache/", ".hypothesis/"):
        assert entry in ignored, entry


# ------------------------------------------------------------------------------------------------ compose


def test_compose_roles_run_existing_commands(compose: dict, dockerfile: Dockerfile) -> None:
    services = cardwise_services(compose)
    assert set(services) == set(CARDWISE_ROLES)
    expected = {"migrate": ["db", "upgrade"], "api": ["serve"], "scheduler": ["serve"], "worker": ["worker"]}
    for name, svc in services.items():
        argv = image_command(dockerfile, svc)
        assert argv[0] == "cardwise", name
        path, _ = cli_command(argv[1:])
        assert path == expected[name], f"{name} runs {argv}"


def test_compose_environment_is_settings_and_validates(
    compose: dict, env_example: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = settings_env_names()
    for name, svc in cardwise_services(compose).items():
        env = svc["environment"]
        assert isinstance(env, dict), f"{name}: use the mapping form for environment"
        unknown = {k for k in env if k.startswith("CARDWISE_")} - names
        assert not unknown, f"{name} sets variables that are no settings: {unknown}"
        resolved = {k: interpolate(str(v), env_example) for k, v in env.items() if k.startswith("CARDWISE_")}
        with monkeypatch.context() as m:
            for key in [k for k in os.environ if k.startswith("CARDWISE_")]:
                m.delenv(key)
            for key, value in resolved.items():
                if value != "":  # an empty value means "unset" here
                    m.setenv(key, value)
            settings = Settings(_env_file=None)  # parsed as from the environment: types and the production checks
        assert settings.environment == "production"
        assert str(settings.data_dir) == "/data"
        assert (
            settings.sqlalchemy_url.startswith("postgresql+psycopg://") and "@postgres:5432/" in settings.sqlalchemy_url
        )
        assert "/data" in [v.split(":")[1] for v in svc["volumes"]], f"{name} shares the data volume"


def test_compose_variables_come_from_env_example(compose: dict, env_example: dict[str, str]) -> None:
    text = COMPOSE.read_text()
    for m in INTERPOLATION.finditer(text):
        if m.group("op") in (":?", "?") or m.group("op") is None:
            assert m.group("name") in env_example, f"${{{m.group('name')}}} must be in deploy/.env.example"
    for key, value in env_example.items():
        if key.startswith("CARDWISE_"):
            assert key in settings_env_names(), f".env.example sets {key}, which is no setting"
        if re.search(r"PASSWORD|KEY|SECRET", key):
            placeholder = value.removeprefix('["')  # CARDWISE_PII_KEYS is a JSON list of keys
            assert placeholder.startswith("replace-"), f"{key} in .env.example must be a placeholder"
    assert (COMPOSE.parent / ".gitignore").read_text().split() == [".env"]


def test_compose_has_exactly_one_scheduler_and_stateless_apis(compose: dict, dockerfile: Dockerfile) -> None:
    enabled = []
    for name, svc in cardwise_services(compose).items():
        argv = image_command(dockerfile, svc)[1:]
        if argv[0] != "serve":
            continue
        flag = svc["environment"].get("CARDWISE_SCHEDULER_ENABLED")
        assert flag in ("true", "false"), f"{name} runs serve: set CARDWISE_SCHEDULER_ENABLED (default is on)"
        if flag == "true":
            enabled.append(name)
            assert option(argv, "--workers") in (None, "1"), "one process, or every job runs per process"
            assert svc.get("deploy", {}).get("replicas") == 1
            assert "ports" not in svc, "the scheduler is not published"
    assert enabled == ["scheduler"]
    api = compose["services"]["api"]
    assert api["environment"]["CARDWISE_SCHEDULER_ENABLED"] == "false"
    assert int(option(image_command(dockerfile, api), "--workers") or 1) >= 2
    assert "ports" not in api and "container_name" not in api, "fixed host ports or names stop --scale api=N"


def test_compose_ports_agree(compose: dict, dockerfile: Dockerfile) -> None:
    (exposed,) = {int(p) for rest in dockerfile.all("EXPOSE") for p in rest.split()}
    for name in ("api", "scheduler"):
        svc = compose["services"][name]
        argv = image_command(dockerfile, svc)
        port = int(option(argv, "--port") or exposed)
        assert [int(p) for p in svc["expose"]] == [port] == [exposed], name
        assert health_port_and_path(svc["healthcheck"]["test"]) == (port, "/healthz"), name
    conf = NGINX_CONF.read_text()
    assert f"http://api:{exposed}" in conf, "the proxy forwards to the api's port"
    for header in ("X-Customer-Id", "X-Roles", "X-Actor-Id"):
        assert f'proxy_set_header {header} "";' in conf, f"defence in depth: the proxy strips {header}"
    published = [svc for svc in compose["services"].values() if any(":" in str(p) for p in svc.get("ports", []))]
    for svc in published:  # only the proxy faces outside; OpenSearch is bound to localhost
        assert svc is compose["services"]["proxy"] or all(str(p).startswith("127.0.0.1:") for p in svc["ports"])


def test_compose_order_postgres_then_migrate_then_roles(compose: dict) -> None:
    services = compose["services"]
    pg = services["postgres"]
    assert pg["image"].split(":")[1].startswith("16")
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in pg["volumes"])
    assert "ports" not in pg
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "scheduler", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    for name in ("opensearch", "opensearch-dashboards"):
        assert services[name]["profiles"] == ["logs"], f"{name} is optional"


@pytest.mark.parametrize(
    "argv", [["serv"], ["db", "downgrade"], ["db"], ["serve", "--threads", "2"], ["serve", "--workers", "two"]]
)
def test_the_cli_check_rejects_what_does_not_exist(argv: list[str]) -> None:
    with pytest.raises(AssertionError):
        cli_command(argv)


def runtime_distributions() -> set[str]:
    """cardwise's dependencies without the dev group, transitively: what `uv sync --no-dev` puts in the image."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [("cardwise", frozenset[str]())]
    while todo:
        name, extras = todo.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for req in map(Requirement, requires):
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                todo.append((req.name, frozenset(req.extras)))
    return {name for name, _ in seen}


def test_every_import_of_the_package_is_a_runtime_dependency() -> None:
    """The image installs --no-dev: a module imported from src/ but only in the dev group breaks a role there
    (httpx, imported by the outbox worker's channels, was one)."""
    runtime = runtime_distributions()
    providers = metadata.packages_distributions()
    missing: dict[str, set[str]] = {}
    for path in (ROOT / "src" / "cardwise").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "cardwise":
                    continue
                if not {canonicalize_name(d) for d in providers.get(top, [])} & runtime:
                    missing.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert not missing, f"imported but not a runtime dependency in pyproject.toml: {missing}"
