"""The production recipe in deploy/: the compose file, the image's Dockerfile, HAProxy's config and the entrypoint.

No Docker daemon is assumed: the compose file is checked against the Compose Specification's JSON schema (a copy in
deploy/schema/) and for what matters here, the Dockerfile by its instructions, HAProxy's config by `haproxy -c`, and
the entrypoint by running each role as a plain process with the environment a container gets.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest
import yaml

from bot.serve import stop_processes, wait_until_up
from bot.settings import PROJECT_ROOT
from tests.servers import MODEL, free_port, require_model

DEPLOY = PROJECT_ROOT / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.py"
PUBLISHING = {"balancer", "web"}  # the only services with published ports
ONE_SHOT = {"migrate"}  # services that run to completion; the others wait for service_completed_successfully
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|_SID$")
INTERPOLATION = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(:\?[^}]*|:-)?\}$")  # ${NAME}, ${NAME:?message}, ${NAME:-}
# Variables the image sets for Python, TensorFlow, Rasa and matplotlib rather than for bot/settings.py.
TOOL_VARIABLES = {
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "PYTHONPATH",
    "TF_CPP_MIN_LOG_LEVEL",
    "RASA_TELEMETRY_ENABLED",
    "SQLALCHEMY_SILENCE_UBER_WARNING",
    "HOME",
    "MPLCONFIGDIR",
}


def compose() -> Dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def services() -> Dict[str, Dict[str, Any]]:
    return compose()["services"]


def our_services() -> Dict[str, Dict[str, Any]]:
    """The services that run the project's image (the others are official images)."""
    return {name: spec for name, spec in services().items() if "build" in spec}


def settings_variables() -> set[str]:
    """Every variable bot/settings.py or endpoints.yml reads, read from their text (a rename shows up here)."""
    source = (PROJECT_ROOT / "bot" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r"\(\s*\"([A-Z][A-Z0-9_]+)\"", source))  # _env("NAME", ...), os.environ.get("NAME") ...
    endpoints = (PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8")
    return names | set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", endpoints))


def dockerfile() -> List[Tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments): continuation lines joined, comments dropped."""
    instructions: List[Tuple[str, str]] = []
    pending = ""
    for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_env() -> Dict[str, str]:
    """The ENV the image sets (KEY=VALUE form)."""
    pairs = [shlex.split(arguments) for keyword, arguments in dockerfile() if keyword == "ENV"]
    return dict(pair.split("=", 1) for words in pairs for pair in words)


# ------------------------------------------------------------------ compose.yaml


def test_compose_file_follows_the_compose_specification() -> None:
    import jsonschema

    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(compose())]
    assert errors == []


def test_every_long_running_service_has_a_health_check_and_a_restart_policy() -> None:
    for name, spec in services().items():
        if name in ONE_SHOT:
            assert spec["restart"] == "on-failure", name
            continue
        assert spec["healthcheck"]["test"] and not spec["healthcheck"].get("disable"), name
        assert spec["restart"] == "unless-stopped", name


def test_services_wait_for_what_they_depend_on() -> None:
    for name, spec in services().items():
        for dependency, condition in spec.get("depends_on", {}).items():
            expected = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert condition == {"condition": expected}, f"{name} -> {dependency}"
    assert set(services()["rasa"]["depends_on"]) == {"migrate", "actions", "postgres", "redis"}


def test_only_the_balancer_and_the_web_server_publish_ports() -> None:
    assert {name for name, spec in services().items() if spec.get("ports")} == PUBLISHING


def test_rasa_runs_replicas_that_the_balancer_finds() -> None:
    rasa = services()["rasa"]
    assert rasa["deploy"]["replicas"] >= 2
    assert "container_name" not in rasa and "ports" not in rasa  # both would stop it from scaling
    config = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    templates = re.findall(r"server-template rasa 1-(\d+) rasa:(\d+)", config)
    assert templates and all(int(most) >= rasa["deploy"]["replicas"] and port == "5005" for most, port in templates)
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in services()["balancer"]["volumes"]


def test_no_secret_is_written_in_the_compose_file() -> None:
    required = {"RASA_TOKEN", "WEBCHAT_SECRET", "MESSAGING_SECRET", "POSTGRES_PASSWORD"}
    for name, spec in services().items():
        for variable, value in (spec.get("environment") or {}).items():
            if SECRET_NAME.search(variable):
                assert INTERPOLATION.match(str(value)), f"{name}: {variable} must come from the environment"
                assert variable not in required or ":?" in value, f"{name}: {variable} must be required (${{X:?...}})"
            for password in re.findall(r":(\$\{[^}]*\}|[^:/@]+)@", str(value)):
                assert INTERPOLATION.match(password), f"{name}: {variable} holds a literal password"


def test_the_project_services_set_only_variables_the_settings_read() -> None:
    known = settings_variables()
    assert {"TRACKER_DB_URL", "LOCK_STORE_TYPE", "RASA_TOKEN", "WEBCHAT_SECRET"} <= known  # the reading works
    for name, spec in our_services().items():
        assert set(spec.get("environment") or {}) <= known, name
    assert set(dockerfile_env()) - TOOL_VARIABLES <= known


def test_the_rasa_role_gets_every_secret_it_requires() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("deploy_entrypoint", ENTRYPOINT)
    assert spec and spec.loader
    entrypoint = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entrypoint)
    for role, names in entrypoint.REQUIRED.items():
        service = services()[role]
        assert set(names) <= set(service.get("environment") or {}), role


# ------------------------------------------------------------------ Dockerfile and HAProxy


def test_dockerfile_runs_the_tested_entrypoint_as_a_non_root_user() -> None:
    instructions = dockerfile()
    keywords = [keyword for keyword, _ in instructions]
    arguments = dict(reversed(instructions))  # the first of each keyword
    assert arguments["FROM"] == "python:3.10-slim"
    user = [a for k, a in instructions if k == "USER"]
    assert (
        user and user[-1] not in ("root", "0") and keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    )
    entry = json.loads(dict(instructions)["ENTRYPOINT"])
    assert entry[0] == "python" and entry[1] == "/app/" + ENTRYPOINT.relative_to(PROJECT_ROOT).as_posix()
    assert arguments["WORKDIR"] == "/app" and ENTRYPOINT.is_file()
    health = dict(instructions)["HEALTHCHECK"]
    assert json.loads(health.split("CMD", 1)[1]) == [*entry, "health"]
    run = " ".join(a for k, a in instructions if k == "RUN")
    assert "pip install --quiet -r requirements.lock" in run and "python -m bot.knowledge.build" in run and "rasa train" in run


def test_dockerfile_bakes_in_no_secret() -> None:
    for keyword, arguments in dockerfile():
        if keyword in ("ENV", "ARG"):
            assert not SECRET_NAME.search(arguments), arguments
    assert dockerfile_env()["ACTION_INTERFACE"] == "0.0.0.0"  # other containers call the action server


def test_build_context_leaves_out_secrets_and_runtime_data() -> None:
    rules = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"  # everything out, then the sources back in
    included = [rule[1:].rstrip("/") for rule in rules if rule.startswith("!")]
    assert all((PROJECT_ROOT / path).exists() for path in included)
    assert not {".env", "var", ".venv", "models", "build", "tests", ".git"} & {path.split("/")[0] for path in included}
    assert ENTRYPOINT.relative_to(PROJECT_ROOT).as_posix() in included


def test_haproxy_accepts_the_compose_balancer_config() -> None:
    haproxy = os.environ.get("HAPROXY") or shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        if os.environ.get("CI"):
            pytest.fail(f"HAProxy is missing ({haproxy}): make test installs it", pytrace=False)
        pytest.skip(f"HAProxy is not installed ({haproxy}): make test installs it; CI runs this test")
    checked = subprocess.run([haproxy, "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    healthcheck = " ".join(services()["balancer"]["healthcheck"]["test"])
    port = re.search(r"frontend monitor\b.*\n\s+bind 127\.0\.0\.1:(\d+)", (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8"))
    assert port and f"/dev/tcp/127.0.0.1/{port.group(1)}" in healthcheck


# ------------------------------------------------------------------ the entrypoint as plain processes


def run_entrypoint(env: Dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ENTRYPOINT), *args], env=env, input=stdin, capture_output=True, text=True, timeout=180
    )


def interpolate(text: str, values: Dict[str, str]) -> str:
    """Compose's interpolation: ${NAME:?message} needs a value (KeyError here), ${NAME:-default} falls back."""

    def value(match: re.Match[str]) -> str:
        name, kind, default = match.groups()
        return values[name] if kind == "?" else values.get(name, default or "")

    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)(?::([?-])([^}]*))?\}", value, text)


def container_env(tmp: Path, database: str) -> Dict[str, str]:
    """What the rasa service's container gets (Dockerfile ENV, then compose's environment, interpolated with test
    values), with the service names and ports moved to this machine's loopback and free ports."""
    values = {
        "RASA_TOKEN": "deploy-test-token",
        "WEBCHAT_SECRET": "w" * 40,
        "MESSAGING_SECRET": "m" * 40,
        "POSTGRES_PASSWORD": "unused",
    }
    env = {"PATH": os.environ["PATH"], "TMPDIR": str(tmp), "ENV_FILE": str(tmp / "no.env")}
    env.update(dockerfile_env())
    for variable, value in services()["rasa"]["environment"].items():
        env[variable] = interpolate(str(value), values)
    action_port = free_port()
    models = tmp / "models"
    models.mkdir()
    (models / MODEL.name).symlink_to(MODEL)
    env.update(
        HOME=str(tmp),
        MPLCONFIGDIR=str(tmp / "matplotlib"),
        PYTHONPATH=str(PROJECT_ROOT),
        DATA_DIR=str(tmp / "data"),
        MODEL_DIR=str(models),
        RASA_INTERFACE="127.0.0.1",  # the image listens on 0.0.0.0 of its container; here, loopback only
        ACTION_INTERFACE="127.0.0.1",
        RASA_PORT=str(free_port()),
        ACTION_PORT=str(action_port),
        WEB_PORT=str(free_port()),
        TRACKER_DB_URL=database,
        LOCK_STORE_HOST="127.0.0.1",
        ACTION_SERVER_URL=f"http://127.0.0.1:{action_port}/webhook",
    )
    return env


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """migrate, then the actions, web and rasa roles started through the entrypoint on PostgreSQL and Redis."""
    from tests.databases import postgres_database, require

    require_model()
    require("PostgreSQL", "Redis")
    tmp = tmp_path_factory.mktemp("deploy")
    with postgres_database("caregiver_deploy") as database:
        env = container_env(tmp, database)
        migrated = run_entrypoint(env, "migrate")
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
        processes = {}
        try:
            for role in ("actions", "web", "rasa"):
                log = open(tmp / f"{role}.log", "ab")  # noqa: SIM115 - the process owns it
                processes[role] = subprocess.Popen(
                    [sys.executable, str(ENTRYPOINT), role], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT
                )
            ports = {"actions": ("ACTION_PORT", "/health"), "web": ("WEB_PORT", "/health"), "rasa": ("RASA_PORT", "/")}
            for role, (port, path) in ports.items():
                wait_until_up(f"http://127.0.0.1:{env[port]}{path}", 240, processes[role])
            yield {**env, "DATABASE": database}
        finally:
            stop(processes.values())


def stop(processes: Any) -> None:
    """SIGTERM (what `docker stop` sends), then kill what is still running after 20 s."""
    stop_processes(processes, signal.SIGTERM, 20)


@pytest.mark.servers
def test_the_roles_serve_a_conversation_on_postgresql_and_redis(deployed: Dict[str, str]) -> None:
    for role in ("actions", "web", "rasa"):
        assert run_entrypoint(deployed, "health", role).returncode == 0, role
    sender = f"deploy-{uuid.uuid4().hex[:8]}"
    url = f"http://127.0.0.1:{deployed['RASA_PORT']}/webhooks/rest/webhook"
    reply = httpx.post(
        url,
        params={"token": deployed["RASA_TOKEN"]},
        json={"sender": sender, "message": "my 13 month old only crawls backwards"},
        timeout=60,
    )
    assert reply.status_code == 200 and "crawling backwards" in json.dumps(reply.json())  # the form ran on the action server
    refused = httpx.post(url, params={"token": "wrong"}, json={"sender": sender, "message": "hi"}, timeout=60)
    assert refused.status_code in (401, 403)
    import psycopg2

    connection = psycopg2.connect(deployed["DATABASE"])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM events WHERE sender_id = %s", (sender,))
            assert cursor.fetchone()[0] > 0
    finally:
        connection.close()


@pytest.mark.servers
def test_the_review_role_manages_dashboard_accounts(deployed: Dict[str, str]) -> None:
    added = run_entrypoint(
        deployed,
        "review",
        "users",
        "add",
        "deploy-admin",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr[-2000:]
    listed = run_entrypoint(deployed, "review", "users", "list")
    assert re.search(r"^deploy-admin\s+admin\s+active$", listed.stdout, re.M)


def test_the_rasa_role_refuses_to_start_without_shared_secrets(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(PROJECT_ROOT),
        "ENV_FILE": str(tmp_path / "no.env"),
        "TMPDIR": str(tmp_path),
    }
    refused = run_entrypoint({**env, "RASA_TOKEN": "set"}, "rasa")
    assert refused.returncode == 2 and "WEBCHAT_SECRET, MESSAGING_SECRET" in refused.stdout
    assert run_entrypoint(env, "no-such-role").returncode == 2
    assert run_entrypoint(env, "health").returncode == 1  # no role started in this "container"
