"""`make load`: the servers under load, each started fresh on free loopback ports and stopped afterwards.

- ours: `python -m bot.serve` (the `make run` launcher) with DATA_DIR in a temporary directory; with replicas > 1
  also RASA_REPLICAS, a fresh PostgreSQL database (dropped afterwards) and the Redis lock store.
- baseline: Rasa's own `rasa init` bot (DIET + TED, in-memory tracker store, no action server), created from the
  template inside the installed rasa package, trained once and kept in build/load-baseline/.
Rate limits are switched off on our stacks: a closed-loop parent sends far faster than a person.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import httpx

from bot.settings import PROJECT_ROOT
from tests.databases import PG_HOST, REDIS_PORT
from tests.tools.benchmark import free_port

BIN = Path(sys.executable).parent
MODEL = PROJECT_ROOT / "models" / "caregiver.tar.gz"
BASELINE_DIR = PROJECT_ROOT / "build" / "load-baseline"
# Variables the launcher reads that must come from here, not from the caller's shell.
MANAGED = (
    "RASA_PORT ACTION_PORT WEB_PORT DATA_DIR RASA_TOKEN RASA_REPLICAS TRACKER_DB_DIALECT TRACKER_DB_URL ACTION_SERVER_URL "
    "LOCK_STORE_TYPE LOCK_STORE_HOST LOCK_STORE_PORT RATE_LIMIT_PER_CONVERSATION RATE_LIMIT_PER_ADDRESS RATE_LIMIT_REDIS_URL "
    "WEB_ALLOWED_ORIGINS RASA_PUBLIC_URL REPLICA_PORT_OFFSET"
).split()
REPLICA_PORT_OFFSET = 1000  # replica i listens on RASA_PORT + offset + i, its action server on ACTION_PORT + offset + i


@dataclass
class Stack:
    """A running server under test."""

    name: str
    rasa_url: str
    token: str
    origin: Optional[str]  # what socket.io clients send as Origin; None: no socket.io
    tracker_url: Optional[str]  # SQLAlchemy URL of its tracker store; None: in memory
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    start_seconds: float = float("nan")
    extra: Dict[str, Any] = field(default_factory=dict)

    def replicas(self) -> List[Dict[str, Any]]:
        """The Rasa processes the launcher lists in DATA_DIR/replicas.json ({"services": [{key, service, port, pid}]}:
        key "rasa" for a single Rasa, "replica<i>" behind the balancer; pid null while one waits for its restart)."""
        try:
            listed = json.loads((self.data_dir / "replicas.json").read_text())
        except (OSError, ValueError):
            return []
        entries = listed.get("services", []) if isinstance(listed, dict) else []
        return [e for e in entries if isinstance(e, dict) and is_rasa(str(e.get("key", "")))]

    def stop(self) -> None:
        """SIGTERM the launcher (it stops its servers), then SIGKILL whatever of its process group is left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait(timeout=10)


def is_rasa(key: str) -> bool:
    """Whether a replicas.json key names a Rasa process."""
    return key == "rasa" or key.startswith("replica")


def port_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound right now."""
    with socket.socket() as sock:
        try:
            sock.bind((PG_HOST, port))
        except OSError:
            return False
    return True


def launcher_ports(replicas: int) -> Dict[str, int]:
    """Free ports for the launcher, with the replicas' ports (RASA_PORT/ACTION_PORT + offset + i) free as well."""
    while True:
        ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
        extra = [ports[name] + REPLICA_PORT_OFFSET + i for name in ("RASA_PORT", "ACTION_PORT") for i in range(replicas + 1)]
        if replicas == 1 or (max(extra) < 65536 and all(port_free(port) for port in extra)):
            return ports


def first_answer(url: str, token: Optional[str], timeout: float, process: subprocess.Popen[bytes]) -> None:
    """Send "hi" over REST until a reply comes back (or the process exits, or `timeout` seconds pass)."""
    deadline = time.monotonic() + timeout
    body = {"sender": f"load-start-{uuid.uuid4().hex[:8]}", "message": "hi"}
    with httpx.Client(timeout=10, params={"token": token} if token else None) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with code {process.returncode} before answering")
            try:
                response = client.post(f"{url}/webhooks/rest/webhook", json=body)
                if response.status_code == 200 and response.json():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"no answer from {url} within {timeout:.0f} s")


def spawn(command: List[str], env: Dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start a server in its own process group, its output in `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def ours_env(tmp: Path, replicas: int, tracker_url: Optional[str]) -> Dict[str, str]:
    """The launcher's environment: free ports, DATA_DIR in tmp, no rate limits; PostgreSQL + Redis for replicas."""
    env = {k: v for k, v in os.environ.items() if k not in MANAGED}
    env.update(
        ENV_FILE=str(tmp / "no.env"),  # the project's .env must not move ports or stores
        **{name: str(port) for name, port in launcher_ports(replicas).items()},
        REPLICA_PORT_OFFSET=str(REPLICA_PORT_OFFSET),
        DATA_DIR=str(tmp / "data"),
        RASA_TOKEN=uuid.uuid4().hex,
        RASA_REPLICAS=str(replicas),
        RATE_LIMIT_PER_CONVERSATION="0",
        RATE_LIMIT_PER_ADDRESS="0",
        PYTHONPATH=str(PROJECT_ROOT),
        TF_CPP_MIN_LOG_LEVEL="3",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    if tracker_url:
        env.update(TRACKER_DB_DIALECT="postgresql", TRACKER_DB_URL=tracker_url, LOCK_STORE_TYPE="redis")
        env.update(LOCK_STORE_HOST=PG_HOST, LOCK_STORE_PORT=str(REDIS_PORT))
    return env


def start_ours(tmp: Path, replicas: int = 1, tracker_url: Optional[str] = None, timeout: float = 300) -> Stack:
    """Start `make run`'s launcher; time from launching it to the first reply."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = ours_env(tmp, replicas, tracker_url)
    data_dir = Path(env["DATA_DIR"])
    log = tmp / f"ours-{replicas}.log"
    started = time.monotonic()
    process = spawn([str(BIN / "python"), "-m", "bot.serve", "--model", str(MODEL)], env, PROJECT_ROOT, log)
    url = f"http://127.0.0.1:{env['RASA_PORT']}"
    stack = Stack(
        name=f"ours, {replicas} replica{'s' if replicas > 1 else ''}",
        rasa_url=url,
        token=env["RASA_TOKEN"],
        origin=f"http://localhost:{env['WEB_PORT']}",
        tracker_url=tracker_url or f"sqlite:///{data_dir / 'tracker.db'}",
        process=process,
        data_dir=data_dir,
        log=log,
    )
    try:
        first_answer(url, stack.token, timeout, process)
    except BaseException:
        stack.stop()
        raise
    stack.start_seconds = time.monotonic() - started
    return stack


def baseline_model(log: Path) -> Path:
    """The `rasa init` bot's trained model, made once (offline: the template ships with rasa) into BASELINE_DIR."""
    import rasa

    stamp = BASELINE_DIR / "rasa-version"
    models = sorted((BASELINE_DIR / "bot" / "models").glob("*.tar.gz"))
    if models and stamp.is_file() and stamp.read_text().strip() == rasa.__version__:
        return models[-1]
    shutil.rmtree(BASELINE_DIR, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="load-baseline-", dir=PROJECT_ROOT / "build"))
    (work / "bot").mkdir()
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["RASA_CACHE_DIRECTORY"] = str(work / "cache")
    print("training Rasa's `rasa init` bot once (build/load-baseline/) ...", flush=True)
    with open(log, "ab") as out:
        subprocess.run(
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(work / "bot")],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
    shutil.rmtree(work / "cache", ignore_errors=True)
    (work / "rasa-version").write_text(rasa.__version__)
    work.rename(BASELINE_DIR)
    return sorted((BASELINE_DIR / "bot" / "models").glob("*.tar.gz"))[-1]


def start_baseline(tmp: Path, timeout: float = 300) -> Stack:
    """Serve the `rasa init` bot with `rasa run --enable-api` (REST channel, in-memory tracker store)."""
    log = tmp / "baseline.log"
    model = baseline_model(log)
    port, token = free_port(), uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if k not in MANAGED}
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    command = [str(BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port)]
    command += ["--model", str(model), "--auth-token", token, "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
    started = time.monotonic()
    process = spawn(command, env, model.parent.parent, log)
    url = f"http://127.0.0.1:{port}"
    stack = Stack("Rasa `rasa init` bot", url, token, None, None, process, tmp, log)
    try:
        first_answer(url, token, timeout, process)
    except BaseException:
        stack.stop()
        raise
    stack.start_seconds = time.monotonic() - started
    return stack
