"""Planning several Rasa replicas behind HAProxy (bot/replicas.py) and the launcher's services for them (bot/serve.py):
ports, refused store configurations, the rendered configs/haproxy.cfg, replicas.json. The replicas running for real
are tests/test_e2e_scale.py's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import pytest

from bot.channels.ratelimit import client_address, networks
from bot.replicas import (
    HAPROXY_TEMPLATE,
    LOCAL_TRACKER_URL,
    POSTGRES_PORT,
    REDIS_PORT,
    ReplicaError,
    balancer_env,
    plan,
    render_haproxy,
    replica_env,
    shared_stores,
)
from bot.serve import Service, Supervisor, action_command, rasa_command, services_for, web_command
from bot.settings import ATOMIC_REDIS_LOCK_STORE, PROJECT_ROOT, Settings, get_settings
from tests.servers import require_haproxy

MODEL = Path("/models/m.tar.gz")
CONFIGURED = ("RASA_REPLICAS", "RASA_PORT", "ACTION_PORT", "WEB_PORT", "RASA_INTERFACE", "REPLICA_PORT_OFFSET", "DATA_DIR")
STORES = ("TRACKER_DB_URL", "TRACKER_DB_DIALECT", "LOCK_STORE_TYPE", "LOCK_STORE_HOST", "LOCK_STORE_PORT", "TRUSTED_PROXIES")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """Settings from a clean environment (no .env file); the caller sets what it needs."""
    for name in (*CONFIGURED, *STORES, "RATE_LIMIT_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENV_FILE", str(tmp_path / "none.env"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def settings_with(environment: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        environment.setenv(name, value)
    get_settings.cache_clear()
    return get_settings()


# ------------------------------------------------------------------ ports


def test_the_port_scheme(environment: pytest.MonkeyPatch) -> None:
    replica_plan = plan(settings_with(environment, RASA_REPLICAS="3"))
    assert [(r.name, r.rasa_port, r.action_port) for r in replica_plan.replicas] == [
        ("replica1", 6006, 5055),  # the first action server keeps the contract's port
        ("replica2", 6007, 6057),
        ("replica3", 6008, 6058),
    ]
    assert replica_plan.bind == "0.0.0.0:5005" and replica_plan.stats_port == 6005


def test_ports_follow_the_configured_ones_and_the_offset(environment: pytest.MonkeyPatch) -> None:
    settings = settings_with(
        environment, RASA_REPLICAS="2", RASA_PORT="7000", ACTION_PORT="7100", REPLICA_PORT_OFFSET="500", RASA_INTERFACE="::"
    )
    replica_plan = plan(settings)
    assert [(r.rasa_port, r.action_port) for r in replica_plan.replicas] == [(7501, 7100), (7502, 7602)]
    assert replica_plan.bind == "[::]:7000" and replica_plan.stats_port == 7500


@pytest.mark.parametrize(
    "values",
    [
        {"WEB_PORT": "6007"},  # replica 2's port
        {"ACTION_PORT": "6006"},  # action server 1 on replica 1's port
        {"RASA_PORT": "65000"},  # 65000 + 1000 + i passes 65535
        {"REPLICA_PORT_OFFSET": "0"},  # replica i on RASA_PORT + i: replica 0 would be the balancer
    ],
)
def test_colliding_ports_are_refused(environment: pytest.MonkeyPatch, values: Dict[str, str]) -> None:
    with pytest.raises(ReplicaError, match="REPLICA_PORT_OFFSET"):
        plan(settings_with(environment, RASA_REPLICAS="2", **values))


def test_replicas_default_to_one_and_never_below(environment: pytest.MonkeyPatch) -> None:
    assert get_settings().rasa_replicas == 1
    assert settings_with(environment, RASA_REPLICAS="0").rasa_replicas == 1


# ------------------------------------------------------------------ stores


def reachable(*ports: int) -> Callable[[int], bool]:
    """A stand-in for "does something answer on this local port"."""
    return lambda port: port in ports


def test_unset_stores_use_the_local_servers(environment: pytest.MonkeyPatch) -> None:
    settings = settings_with(environment, RASA_REPLICAS="2")
    assert shared_stores(settings, reachable(POSTGRES_PORT, REDIS_PORT)) == {
        "TRACKER_DB_DIALECT": "postgresql",
        "TRACKER_DB_URL": LOCAL_TRACKER_URL,
        "LOCK_STORE_TYPE": "redis",
        "LOCK_STORE_HOST": "127.0.0.1",
        "LOCK_STORE_PORT": "6379",
    }


def test_configured_shared_stores_are_used_as_they_are(environment: pytest.MonkeyPatch) -> None:
    settings = settings_with(
        environment, RASA_REPLICAS="2", TRACKER_DB_URL="postgresql://u:p@db:5432/rasa", LOCK_STORE_TYPE="redis"
    )
    assert shared_stores(settings, reachable()) == {}  # nothing probed, nothing changed


@pytest.mark.parametrize(
    "values, ports, says",
    [
        ({"TRACKER_DB_URL": "sqlite:////tmp/tracker.db"}, (POSTGRES_PORT, REDIS_PORT), "not SQLite"),
        ({"LOCK_STORE_TYPE": "in_memory"}, (POSTGRES_PORT, REDIS_PORT), "not the in-memory one"),
        ({}, (REDIS_PORT,), "TRACKER_DB_URL=postgresql://"),
        ({}, (POSTGRES_PORT,), "LOCK_STORE_TYPE=redis"),
    ],
    ids=["sqlite", "in-memory-lock", "no-postgres", "no-redis"],
)
def test_stores_that_would_lose_events_are_refused_with_what_to_set(
    environment: pytest.MonkeyPatch, values: Dict[str, str], ports: tuple, says: str
) -> None:
    with pytest.raises(ReplicaError, match=re.escape(says)):
        shared_stores(settings_with(environment, RASA_REPLICAS="2", **values), reachable(*ports))


def test_the_rasa_processes_share_rate_limit_counts_in_the_lock_stores_redis(environment: pytest.MonkeyPatch) -> None:
    # The launcher gives Rasa the class for LOCK_STORE_TYPE=redis; the Rasa process's settings must still see Redis.
    settings = settings_with(environment, LOCK_STORE_TYPE=ATOMIC_REDIS_LOCK_STORE, LOCK_STORE_PORT="6390")
    assert settings.rate_limit_redis_url == "redis://127.0.0.1:6390/0"


# ------------------------------------------------------------------ the balancer's configuration


def rendered(settings: Settings) -> str:
    return render_haproxy(plan(settings), HAPROXY_TEMPLATE.read_text(encoding="utf-8"))


def test_the_rendered_config_has_every_replica(environment: pytest.MonkeyPatch) -> None:
    config = rendered(settings_with(environment, RASA_REPLICAS="3"))
    for name, port in (("replica1", 6006), ("replica2", 6007), ("replica3", 6008)):
        assert f"server {name} 127.0.0.1:{port} check" in config
        assert f"server {name} 127.0.0.1:{port} track replicas/{name}" in config
    assert "bind 0.0.0.0:5005" in config and "bind 127.0.0.1:6005" in config
    assert not re.search(r"\$\{[a-z_]+\}", config)


def directives(config: str) -> List[str]:
    return [line.strip() for line in config.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_the_config_balances_http_with_sticky_socketio_health_checks_and_retries(environment: pytest.MonkeyPatch) -> None:
    lines = directives(rendered(settings_with(environment, RASA_REPLICAS="2")))
    for expected in (
        "mode http",
        "balance roundrobin",
        "option forwardfor",
        "option redispatch 1",
        "retry-on conn-failure empty-response",
        "option http-buffer-request",
        "use_backend socketio if { path_beg /socket.io/ }",
        "stick match url_param(sid)",
        'http-check send meth GET uri "/status?token=${RASA_STATUS_TOKEN}"',
    ):
        assert expected in lines, expected
    assert any(line.startswith("timeout tunnel") for line in lines) and any(line.startswith("retries") for line in lines)
    assert any(line.startswith("stick store-response res.body") for line in lines)


def test_the_config_logs_nothing_and_has_no_admin(environment: pytest.MonkeyPatch) -> None:
    lines = directives(rendered(settings_with(environment, RASA_REPLICAS="2")))
    assert not [line for line in lines if line.split()[0] in ("log", "option") and "log" in line.split()[-1]]
    assert not [line for line in lines if line.startswith(("stats admin", "stats socket"))]
    assert [line for line in lines if line.startswith("bind 127.0.0.1:")] == ["bind 127.0.0.1:6005"]  # stats: loopback


def test_a_placeholder_without_a_value_is_an_error(environment: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="stats_portt"):
        render_haproxy(plan(settings_with(environment, RASA_REPLICAS="2")), "bind 127.0.0.1:${stats_portt}\n")


@pytest.mark.servers  # runs HAProxy (installed by `make balancer`, a prerequisite of `make test`)
def test_haproxy_accepts_the_rendered_config(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require_haproxy()
    path = tmp_path / "haproxy.cfg"
    path.write_text(rendered(settings_with(environment, RASA_REPLICAS="2")), encoding="utf-8")
    haproxy = os.environ.get("HAPROXY") or "haproxy"
    from bot.replicas import haproxy_path

    checked = subprocess.run(
        [str(haproxy_path(haproxy)), "-c", "-f", str(path)], capture_output=True, text=True, env=balancer_env("t")
    )
    assert checked.returncode == 0, checked.stderr


def test_the_health_check_token_is_url_encoded() -> None:
    assert balancer_env("a b&c/d") == {"RASA_STATUS_TOKEN": "a%20b%26c%2Fd"}


def test_rate_limits_see_the_client_through_the_balancer(environment: pytest.MonkeyPatch) -> None:
    # HAProxy connects from 127.0.0.1 and appends the client's address to X-Forwarded-For (option forwardfor).
    settings = settings_with(environment, RASA_REPLICAS="2", TRUSTED_PROXIES="10.0.0.0/8 127.0.0.1")
    env = replica_env(settings, plan(settings).replicas[1])
    assert env == {"ACTION_SERVER_URL": "http://127.0.0.1:6057/webhook", "TRUSTED_PROXIES": "10.0.0.0/8 127.0.0.1"}
    trusted = networks(env["TRUSTED_PROXIES"].split())
    assert client_address("127.0.0.1", "203.0.113.9", trusted) == "203.0.113.9"
    assert client_address("127.0.0.1", "198.51.100.1, 203.0.113.9", trusted) == "203.0.113.9"  # a forged hop is ignored


# ------------------------------------------------------------------ the launcher's services


def test_without_rasa_replicas_the_services_are_exactly_the_three_servers(environment: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    services = services_for(settings, MODEL, "token")
    assert [(s.name, s.command, s.health_url, s.env) for s in services] == [
        ("action server", action_command(5055), "http://127.0.0.1:5055/health", {}),
        ("web server", web_command(8000), "http://127.0.0.1:8000/health", {}),
        ("Rasa server", rasa_command(5005, MODEL, "token"), "http://127.0.0.1:5005/", {}),
    ]
    assert "--interface" in services[2].command and settings.rasa_interface in services[2].command


def test_with_two_replicas_the_launcher_runs_them_behind_haproxy(environment: pytest.MonkeyPatch) -> None:
    settings = settings_with(environment, RASA_REPLICAS="2")
    services = {s.key: s for s in services_for(settings, MODEL, "token", haproxy="/usr/sbin/haproxy")}
    assert list(services) == ["actions1", "actions2", "web", "replica1", "replica2", "balancer"]
    assert services["actions2"].command == action_command(6057)
    replica = services["replica2"]
    assert replica.command == rasa_command(6007, MODEL, "token", interface="127.0.0.1") and replica.port == 6007
    assert replica.env["ACTION_SERVER_URL"] == "http://127.0.0.1:6057/webhook"
    balancer = services["balancer"]
    assert balancer.command == ["/usr/sbin/haproxy", "-db", "-f", str(settings.data_dir / "haproxy.cfg")]
    assert balancer.port == 5005 and balancer.env == {"RASA_STATUS_TOKEN": "token"} and balancer.ready is not None


def test_several_replicas_on_sqlite_are_refused_before_anything_starts(tmp_path: Path) -> None:
    require_haproxy()
    env = {k: v for k, v in os.environ.items() if k not in (*CONFIGURED, *STORES)}
    env.update(
        RASA_REPLICAS="2",
        TRACKER_DB_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
        DATA_DIR=str(tmp_path / "data"),
        ENV_FILE=str(tmp_path / "none.env"),
        PYTHONPATH=str(PROJECT_ROOT),
    )
    command = [sys.executable, "-m", "bot.serve", "--model", str(tmp_path / "none.tar.gz")]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not SQLite" in done.stdout and "TRACKER_DB_URL=postgresql://" in done.stdout
    assert not (tmp_path / "data" / "replicas.json").exists()


def test_replicas_json_names_each_service_with_its_port_and_pid(tmp_path: Path) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    services = [Service("Rasa replica 1", sleeper, "http://127.0.0.1:9/", key="replica1", port=6006)]
    state = tmp_path / "replicas.json"
    supervisor = Supervisor(services, dict(os.environ), state)
    supervisor.start()
    try:
        listed = json.loads(state.read_text())["services"]
        assert listed == [{"key": "replica1", "service": "Rasa replica 1", "port": 6006, "pid": services[0].process.pid}]
        first = services[0].process.pid
        services[0].process.kill()
        services[0].process.wait(timeout=10)
        supervisor.check()  # noticed: no pid while it waits for its restart
        assert json.loads(state.read_text())["services"][0]["pid"] is None
        services[0].restart_at = time.monotonic()
        supervisor.check()  # restarted: the new pid
        assert json.loads(state.read_text())["services"][0]["pid"] not in (None, first)
    finally:
        supervisor.stop()
    assert not state.exists()
