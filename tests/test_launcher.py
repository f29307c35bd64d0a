"""The launcher (`python -m bot.serve`, what `make run` calls), run for real with no RASA_TOKEN configured.

Closed by default: the Rasa HTTP API needs the generated token, the action server listens on loopback
only and refuses compressed or oversized bodies. Supervision: each server, killed, comes back while the
others keep serving. Also the .env file and `make clean` keeping the runtime data.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import httpx
import pytest

from bot.serve import Service, backoff
from bot.settings import PROJECT_ROOT, parse_env_file
from tests.servers import MODEL, free_port, require_model

READY = "The assistant is ready"
MARKERS = {"action server": "actions.server", "web server": "bot.web", "Rasa server": "--enable-api"}


class Launcher:
    """One `python -m bot.serve` on free ports, a fresh data directory and no RASA_TOKEN."""

    def __init__(self, tmp: Path) -> None:
        self.data_dir = tmp / "data"  # not created beforehand: the launcher makes it
        self.log = tmp / "launcher.log"
        self.ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
        unset = ("RASA_TOKEN", "TRACKER_DB_URL", "TRACKER_DB_DIALECT", "ACTION_SERVER_URL", "RASA_INTERFACE", "ACTION_INTERFACE")
        env = {k: v for k, v in os.environ.items() if k not in unset}
        env.update({k: str(v) for k, v in self.ports.items()})
        env.update({"DATA_DIR": str(self.data_dir), "ENV_FILE": str(tmp / "no.env"), "PYTHONPATH": str(PROJECT_ROOT)})
        with open(self.log, "wb") as log:
            command = [sys.executable, "-m", "bot.serve", "--model", str(MODEL)]
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while READY not in self.output():
            assert self.process.poll() is None, f"the launcher exited:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"not ready after {timeout:.0f} s:\n{self.output()[-3000:]}"
            time.sleep(0.5)

    def token(self) -> str:
        return (self.data_dir / "rasa_token").read_text().strip()

    def children(self) -> Dict[str, int]:
        """The launcher's server processes by name (read from /proc)."""
        found = {}
        for stat_file in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat_file.read_text().rsplit(")", 1)[1].split()[1])
                command = (stat_file.parent / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except (OSError, IndexError, ValueError):
                continue
            for name, marker in MARKERS.items():
                if parent == self.process.pid and marker in command:
                    found[name] = int(stat_file.parent.name)
        return found

    def stop(self) -> Optional[int]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    require_model()
    running = Launcher(tmp_path_factory.mktemp("launcher"))
    try:
        running.wait_ready()
        yield running
    finally:
        servers = running.children().values() if running.process.poll() is None else []
        running.stop()
        for pid in servers:
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.5)


def say(launcher: Launcher, sender: str, text: str) -> str:
    """One REST message (with the token the REST channel requires); all reply texts joined."""
    url = f"{launcher.url('RASA_PORT')}/webhooks/rest/webhook"
    response = httpx.post(url, params={"token": launcher.token()}, json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    return "\n".join(reply.get("text", "") for reply in response.json())


def non_loopback_ipv4() -> Optional[str]:
    try:
        addresses = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return next((a for a in addresses if "." in a and not a.startswith("127.")), None)


def connects(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


# ------------------------------------------------------------------ closed by default


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/conversations/x/tracker", None),
        ("POST", "/conversations/x/tracker/events", {"event": "action", "name": "action_listen"}),
        ("PUT", "/model", {"model_file": "/nonexistent.tar.gz"}),
        ("POST", "/model/train", {}),
        ("DELETE", "/model", None),
    ],
)
def test_the_http_api_refuses_anonymous_calls(launcher: Launcher, method: str, path: str, body: Optional[dict]) -> None:
    response = httpx.request(method, f"{launcher.url('RASA_PORT')}{path}", json=body, timeout=30)
    assert response.status_code in (401, 403)


def test_the_generated_token_is_private_works_and_is_never_printed(launcher: Launcher) -> None:
    token_file = launcher.data_dir / "rasa_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(launcher.data_dir.stat().st_mode) == 0o700
    token = launcher.token()
    assert len(token) >= 32
    assert httpx.get(f"{launcher.url('RASA_PORT')}/status", params={"token": token}, timeout=10).status_code == 200
    assert httpx.get(f"{launcher.url('RASA_PORT')}/status", params={"token": "wrong"}, timeout=10).status_code in (401, 403)
    assert token not in launcher.output() and str(token_file) in launcher.output()


def test_the_action_server_listens_on_loopback_only(launcher: Launcher) -> None:
    assert connects("127.0.0.1", launcher.ports["ACTION_PORT"])
    address = non_loopback_ipv4()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try the action server on")
    assert connects(address, launcher.ports["RASA_PORT"])  # the address works: Rasa is public by design
    assert not connects(address, launcher.ports["ACTION_PORT"])


@pytest.mark.parametrize(
    "headers, body, status",
    [
        ({"Content-Encoding": "deflate"}, zlib.compress(b" " * (64 * 1024 * 1024), 9), 413),  # ~64 KB inflating to 64 MB
        ({"Content-Encoding": "gzip"}, b"\x1f\x8b not really gzip", 415),
        ({}, b'{"padding": "' + b"x" * (9 * 1024 * 1024) + b'"}', 413),
    ],
    ids=["deflate-bomb", "gzip", "oversized"],
)
def test_the_action_server_refuses_compressed_and_oversized_bodies(
    launcher: Launcher, headers: dict, body: bytes, status: int
) -> None:
    url = f"{launcher.url('ACTION_PORT')}/webhook"
    response = httpx.post(url, content=body, headers={"Content-Type": "application/json", **headers}, timeout=60)
    assert response.status_code == status
    assert answers(f"{launcher.url('ACTION_PORT')}/health")


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    "line, expected",
    [
        ("WEB_PORT=8123", {"WEB_PORT": "8123"}),
        ("export RASA_TOKEN = 'a b # c'", {"RASA_TOKEN": "a b # c"}),
        ('TWILIO_WEBHOOK_URL="https://x.example/hook"', {"TWILIO_WEBHOOK_URL": "https://x.example/hook"}),
        ("RASA_PORT=6000  # a comment", {"RASA_PORT": "6000"}),
        ("# RASA_PORT=6000", {}),
        ("RASA_TOKEN=", {}),
        ("not a setting", {}),
    ],
)
def test_env_file_lines(line: str, expected: Dict[str, str]) -> None:
    assert parse_env_file([line]) == expected


def test_the_env_file_is_read_and_the_real_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# settings\nWEB_PORT=8123\nRASA_PORT='6111'\nRASA_TOKEN=\"from-the-file\"\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("WEB_PORT", "RASA_TOKEN")}
    env.update({"ENV_FILE": str(env_file), "RASA_PORT": "6222", "PYTHONPATH": str(PROJECT_ROOT)})
    script = "from bot.settings import get_settings as g; s = g(); print(s.web_port, s.rasa_port, s.rasa_token)"
    printed = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert printed.stdout.split() == ["8123", "6222", "from-the-file"]


def default_data_dir() -> Path:
    env = {k: v for k, v in os.environ.items() if k != "DATA_DIR"}
    env.update({"ENV_FILE": "/nonexistent/.env", "PYTHONPATH": str(PROJECT_ROOT)})
    script = "from bot.settings import get_settings; print(get_settings().webchat_secret_file.parent)"
    printed = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    )
    return Path(printed.stdout.strip())


def removed_by_make_clean() -> List[Path]:
    recipe = subprocess.run(["make", "-n", "clean"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    removed = []
    for line in recipe.splitlines():
        words = line.split()
        if words[:1] == ["rm"]:
            removed += [(PROJECT_ROOT / w).resolve() for w in words[1:] if not w.startswith("-")]
    return removed


def test_make_clean_keeps_the_runtime_data() -> None:
    data_dir = default_data_dir()
    removed = removed_by_make_clean()
    assert removed, "make -n clean removes nothing?"
    assert not [p for p in removed if p == data_dir or p in data_dir.parents]


# ------------------------------------------------------------------ supervision


@pytest.mark.parametrize("failures, seconds", [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 30), (20, 30)])
def test_restarts_back_off_up_to_30_seconds(failures: int, seconds: float) -> None:
    assert backoff(failures) == seconds


def test_a_server_that_stayed_up_a_minute_is_restarted_after_one_second_again() -> None:
    service = Service("test server", [sys.executable, "-c", "raise SystemExit(3)"], "http://127.0.0.1:9/")
    service.start(dict(os.environ), now=1000.0)
    service.process.wait(timeout=30)
    for expected in (1, 2, 4):  # quick failures in a row
        service.exited(now=1000.0 + 0.1)
        assert service.restart_at == pytest.approx(1000.1 + expected)
    service.started_at = 1000.0
    service.exited(now=1000.0 + 61)  # it had stayed up 61 s
    assert service.failures == 1 and service.restart_at == pytest.approx(1062.0)


# ------------------------------------------------------------------ each server killed (runs last)


def kill(launcher: Launcher, name: str) -> int:
    pid = launcher.children()[name]
    os.kill(pid, signal.SIGKILL)
    eventually(lambda: launcher.children().get(name) != pid, 10, f"{name} gone")
    return pid


def test_each_server_comes_back_while_the_others_keep_serving(launcher: Launcher) -> None:
    rasa, web, actions = (
        f"{launcher.url(n)}{p}" for n, p in (("RASA_PORT", "/"), ("WEB_PORT", "/health"), ("ACTION_PORT", "/health"))
    )
    parent = "parent-launcher-1"
    assert "born early" in say(launcher, parent, "my 13 month old only crawls backwards, is that normal?").lower()

    kill(launcher, "action server")
    urgent = say(launcher, "parent-launcher-2", "my baby is having a seizure").lower()
    assert "call your local emergency number now" in urgent  # the seizure message, without the action server
    assert answers(web)
    eventually(lambda: answers(actions), 30, "the action server back")
    assert say(launcher, parent, "no she was on time")  # the form goes on: actions work again

    kill(launcher, "Rasa server")
    for _ in range(10):  # the others keep serving while Rasa restarts
        assert answers(web) and answers(actions)
        time.sleep(1)
    eventually(lambda: answers(rasa), 150, "the Rasa server back")
    assert say(launcher, parent, "no")  # the conversation survived (tracker store on disk)

    kill(launcher, "web server")
    assert answers(rasa) and answers(actions)
    eventually(lambda: answers(web), 30, "the web server back")

    output = launcher.output()
    for name in MARKERS:
        assert f"restarted the {name}" in output
    served = set(launcher.children().values())
    assert launcher.stop() == 0  # SIGTERM: a clean stop of everything
    assert not [pid for pid in served if Path(f"/proc/{pid}").exists()]
