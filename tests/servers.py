"""Real server processes for end-to-end tests: the action server, Rasa server(s) and the web server; or the launcher
itself (`python -m bot.serve`) running several Rasa replicas behind HAProxy, as `RASA_REPLICAS=2 make run` does."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import httpx
import pytest

from bot.replicas import ReplicaError, balancer_ready, haproxy_path, plan
from bot.serve import action_command, rasa_command, service_env, wait_until_up, web_command
from bot.settings import PROJECT_ROOT, get_settings

TOKEN = "e2e-secret-token"
# The limits stack's rate limits (conftest `limits_stack`): tests/test_channel_hardening.py trips them.
PER_CONVERSATION, PER_ADDRESS = 6, 8
# The shared stack's only limit (conftest `shared_stack`), for every address: tests/test_fuzz.py's burst trips it.
CONVERSATION_LIMIT = (30, 60)
MODEL = PROJECT_ROOT / "models" / "caregiver.tar.gz"
NO_MODEL = "no trained model at models/caregiver.tar.gz: run `make train` (make test does)"


def require_model() -> None:
    """Skip without the trained model, with the reason; under CI=true fail instead (like a missing browser)."""
    if MODEL.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(NO_MODEL + "; CI must run the tests that need it", pytrace=False)
    pytest.skip(NO_MODEL)


def require_haproxy() -> None:
    """Skip without HAProxy (`make balancer` installs it), with the reason; under CI=true fail instead."""
    try:
        haproxy_path(os.environ.get("HAPROXY") or "haproxy")
    except ReplicaError as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error} CI must run the replica tests", pytrace=False)
        pytest.skip(str(error))


def free_port() -> int:
    """An unused localhost TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Services:
    """An action server plus `replicas` Rasa servers sharing one tracker store and lock store.

    With web=True, also the web server (widget + demo pages), and the origins and URLs the browser needs.
    replica_env: settings for single replicas on top of env (e.g. one replica with the messaging channels off).
    """

    def __init__(
        self,
        tmp: Path,
        env: Optional[Dict[str, str]] = None,
        replicas: int = 1,
        web: bool = False,
        replica_env: Sequence[Dict[str, str]] = (),
    ) -> None:
        self.action_port = free_port()
        self.rasa_ports = [free_port() for _ in range(replicas)]
        self.web_port = free_port() if web else None
        self.origins = [f"http://127.0.0.1:{self.web_port}", f"http://localhost:{self.web_port}"] if web else ["*"]
        defaults = {
            "TRACKER_DB_DIALECT": "sqlite",
            "TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.db'}",
            "DATA_DIR": str(tmp),
            "RASA_TOKEN": TOKEN,  # what the Rasa process's settings see (the REST channel checks it)
            "WEB_ALLOWED_ORIGINS": " ".join(self.origins),
            "RASA_PUBLIC_URL": f"http://127.0.0.1:{self.rasa_ports[0]}",
        }
        self.env = service_env({**defaults, **(env or {}), "ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}/webhook"})
        self.replica_env = [{**self.env, **extra} for extra in replica_env] + [self.env] * (replicas - len(replica_env))
        self.logs = tmp
        self.action: Optional[subprocess.Popen] = None
        self.rasa: List[subprocess.Popen] = []
        self.web: Optional[subprocess.Popen] = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[0]}"

    def chat_urls(self) -> List[str]:
        """Where a Chat sends its messages, one after the other: each Rasa server in turn."""
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    def _spawn(self, command: List[str], name: str, env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the process owns it
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT)

    def start(self) -> Services:
        """Start every process (the Rasa servers last: they take longest); skips or fails without the model."""
        require_model()
        self.start_action()
        if self.web_port:
            self.start_web()
        self.start_rasa()
        return self

    def start_rasa(self) -> None:
        """Start the Rasa server(s), or restart them on the same ports after stop_rasa()."""
        self.rasa = [
            self._spawn(rasa_command(port, MODEL, TOKEN, self.origins), f"rasa-{port}", env)
            for port, env in zip(self.rasa_ports, self.replica_env, strict=True)
        ]
        for port, process in zip(self.rasa_ports, self.rasa, strict=False):
            wait_until_up(f"http://127.0.0.1:{port}/", 240, process)

    def running(self) -> bool:
        """Whether every process this stack started is still running."""
        processes = [self.action, self.web, *self.rasa] if self.web_port else [self.action, *self.rasa]
        return all(p is not None and p.poll() is None for p in processes)

    def ensure_running(self) -> Services:
        """Restart what a test left stopped (a session stack outlives the test that stopped it)."""
        if self.action is None or self.action.poll() is not None:
            self.start_action()
        if self.web_port and (self.web is None or self.web.poll() is not None):
            self.start_web()
        if not self.rasa or any(p.poll() is not None for p in self.rasa):
            self.stop_rasa()
            self.start_rasa()
        return self

    def stop_rasa(self) -> None:
        for process in self.rasa:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)

    def start_web(self) -> None:
        self.web = self._spawn(web_command(self.web_port), "web")
        wait_until_up(f"{self.web_url}/health", 60, self.web)

    def start_action(self) -> None:
        self.action = self._spawn(action_command(self.action_port), "actions")
        wait_until_up(f"http://127.0.0.1:{self.action_port}/health", 60, self.action)

    def stop_action(self) -> None:
        if self.action and self.action.poll() is None:
            self.action.terminate()
            self.action.wait(timeout=20)

    def stop(self) -> None:
        self.stop_action()
        self.stop_rasa()
        if self.web and self.web.poll() is None:
            self.web.terminate()
            self.web.wait(timeout=20)


class Chat:
    """One caregiver talking over the REST channel (optionally to several replicas in turn)."""

    def __init__(self, services: Union[Services, BalancedStack]) -> None:
        self.services = services
        self.sender = f"parent-{uuid.uuid4().hex[:12]}"
        self.turn = 0

    def base(self) -> str:
        urls = self.services.chat_urls()
        return urls[self.turn % len(urls)]

    def say(self, text: str) -> List[Dict[str, Any]]:
        url = f"{self.base()}/webhooks/rest/webhook"
        self.turn += 1
        response = httpx.post(url, params={"token": TOKEN}, json={"sender": self.sender, "message": text}, timeout=60)
        response.raise_for_status()
        return response.json()

    def says(self, text: str) -> str:
        """Send a message; return all reply texts joined (there must be at least one)."""
        replies = self.say(text)
        assert replies, f"no reply to {text!r}"
        return "\n".join(r.get("text", "") for r in replies)

    def slots(self) -> Dict[str, Any]:
        response = httpx.get(f"{self.base()}/conversations/{self.sender}/tracker", params={"token": TOKEN}, timeout=30)
        response.raise_for_status()
        return response.json()["slots"]


# Settings the test process may carry that the launcher must not inherit (it derives them, or the stack sets them).
LAUNCHER_UNSET = (
    "ACTION_SERVER_URL",
    "TRACKER_DB_URL",
    "TRACKER_DB_DIALECT",
    "LOCK_STORE_TYPE",
    "LOCK_STORE_HOST",
    "LOCK_STORE_PORT",
)


def free_ports_for_replicas(replicas: int, offset: int = 1000) -> Dict[str, int]:
    """RASA_PORT, ACTION_PORT and WEB_PORT such that every port the launcher derives from them (bot/replicas.py) is free.

    Below Linux's ephemeral range (32768-60999): the replicas bind their ports a minute later, by which time an
    outgoing connection could have taken an ephemeral one."""
    chooser = random.Random()
    for _ in range(200):
        base = chooser.randrange(20000, 30000 - offset - 2 * replicas - 10)
        ports = {"RASA_PORT": base, "ACTION_PORT": base + replicas + 1, "WEB_PORT": base + replicas + 2}
        derived = [base + offset + i for i in range(replicas + 1)] + [
            base + replicas + 1 + offset + i for i in range(2, replicas + 1)
        ]
        if all(port_free(port) for port in [*ports.values(), *derived]):
            return ports
    raise RuntimeError("no free ports for the replicas")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class BalancedStack:
    """`python -m bot.serve` with RASA_REPLICAS=replicas, as `RASA_REPLICAS=2 make run` runs it: the replicas and their
    action servers, the web server and HAProxy with the repository's configs/haproxy.cfg, on free ports.

    rasa_url is the balancer; rasa_ports are the replicas' own (127.0.0.1) ports, for tests that must address one
    replica; stats() reads HAProxy's per-replica counts; pid() reads DATA_DIR/replicas.json.
    env: the stores (TRACKER_DB_URL, LOCK_STORE_*) and any other settings, on top of the test defaults.
    """

    def __init__(self, tmp: Path, env: Optional[Dict[str, str]] = None, replicas: int = 2) -> None:
        self.replicas = replicas
        self.ports = free_ports_for_replicas(replicas)
        self.data_dir = tmp / "data"
        self.log = tmp / "launcher.log"
        self.web_port = self.ports["WEB_PORT"]
        self.origins = [f"http://127.0.0.1:{self.web_port}", f"http://localhost:{self.web_port}"]
        settings_env = {
            **{name: str(port) for name, port in self.ports.items()},
            "RASA_REPLICAS": str(replicas),
            "DATA_DIR": str(self.data_dir),
            "RASA_TOKEN": TOKEN,
            "WEB_ALLOWED_ORIGINS": " ".join(self.origins),
            "RASA_PUBLIC_URL": f"http://127.0.0.1:{self.ports['RASA_PORT']}",
            "ENV_FILE": str(tmp / "no.env"),
            **(env or {}),
        }
        inherited = {k: v for k, v in os.environ.items() if k not in LAUNCHER_UNSET}
        self.env = {**inherited, "PYTHONPATH": str(PROJECT_ROOT), **settings_env}  # the launcher's environment
        ports = {"rasa_port": self.ports["RASA_PORT"], "action_port": self.ports["ACTION_PORT"], "web_port": self.web_port}
        self.plan = plan(replace(get_settings(), **ports, rasa_replicas=replicas, replica_port_offset=1000))
        self.rasa_ports = [replica.rasa_port for replica in self.plan.replicas]
        self.replica_env = [self.env] * replicas  # every replica runs with the same settings
        self.process: Optional[subprocess.Popen] = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['RASA_PORT']}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.plan.stats_port}/;csv"

    def chat_urls(self) -> List[str]:
        """Every message through the balancer."""
        return [self.rasa_url]

    def start(self) -> BalancedStack:
        """Start the launcher and wait until HAProxy sees every replica up; skips or fails without the model."""
        require_model()
        require_haproxy()
        log = open(self.log, "ab")  # noqa: SIM115 - the process owns it
        command = [sys.executable, "-m", "bot.serve", "--model", str(MODEL)]
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 300) -> None:
        """Until every replica is up behind the balancer (as HAProxy's health checks see it)."""
        deadline = time.monotonic() + timeout
        while not balancer_ready(self.plan):
            assert self.process is not None and self.process.poll() is None, f"the launcher exited:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"replicas not up after {timeout:.0f} s:\n{self.output()[-3000:]}"
            time.sleep(0.5)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def services(self) -> Dict[str, Dict[str, Any]]:
        """DATA_DIR/replicas.json by key (replica1, actions1, web, balancer ...)."""
        listed = json.loads((self.data_dir / "replicas.json").read_text(encoding="utf-8"))
        return {entry["key"]: entry for entry in listed["services"]}

    def pid(self, key: str) -> Optional[int]:
        return self.services()[key]["pid"]

    def stats(self, backend: str = "replicas") -> Dict[str, Dict[str, str]]:
        """HAProxy's statistics rows of a backend ("replicas": REST and the API; "socketio"), by server name and
        BACKEND (lbtot: requests it chose that server for; wretr, wredis: retries, redispatches; status)."""
        table = httpx.get(self.stats_url, timeout=10).text.lstrip("# ")
        return {row["svname"]: row for row in csv.DictReader(io.StringIO(table)) if row["pxname"] == backend}

    def served(self, backend: str = "replicas") -> Dict[str, int]:
        """How many requests (socket.io: sessions) the balancer has sent to each replica."""
        return {name: int(row["lbtot"]) for name, row in self.stats(backend).items() if name.startswith("replica")}

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None and balancer_ready(self.plan)

    def ensure_running(self) -> BalancedStack:
        """Restart the launcher if it stopped; wait for every replica behind the balancer (a test may have killed one)."""
        if self.process is None or self.process.poll() is not None:
            return self.start()
        self.wait_ready()
        return self

    def stop(self) -> None:
        """SIGTERM the launcher (a clean stop of everything it runs)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
