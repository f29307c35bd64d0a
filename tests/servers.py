"""Real server processes for end-to-end tests: the action server, Rasa server(s) and the web server."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import httpx
import pytest

from bot.serve import action_command, rasa_command, service_env, wait_until_up, web_command
from bot.settings import PROJECT_ROOT

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

    def __init__(self, services: Services) -> None:
        self.services = services
        self.sender = f"parent-{uuid.uuid4().hex[:12]}"
        self.turn = 0

    def base(self) -> str:
        ports = self.services.rasa_ports
        return f"http://127.0.0.1:{ports[self.turn % len(ports)]}"

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
