"""Start the action server, the Rasa server and the web server (`make run`) and keep them running.

Usage: python -m bot.serve [--model PATH]

With RASA_REPLICAS=N (N > 1), N Rasa replicas (each with its own action server) run behind HAProxy on RASA_PORT,
on a shared PostgreSQL tracker store and Redis lock store (bot/replicas.py: ports, stores, the balancer's config).
Every service's name, port and process id is kept in <DATA_DIR>/replicas.json while the launcher runs.

Closed by default: Rasa always gets an API token (RASA_TOKEN, else one generated once and kept in
<DATA_DIR>/rasa_token), and the action server listens on 127.0.0.1. A server that exits is restarted
after 1 s, 2 s, 4 s ... (at most 30 s; back to 1 s once it has stayed up 60 s) while the others keep
serving; after 5 quick failures in a row the launcher says so and keeps retrying every 30 s (a parent
asking about an emergency is better served by a late recovery than by none). Ctrl-C or SIGTERM stops
everything cleanly.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, NoReturn, Optional, Sequence

from bot.replicas import (
    LOCAL_HOST,
    ReplicaError,
    balancer_env,
    balancer_ready,
    haproxy_config,
    plan,
    prepare_replicas,
    replica_env,
)
from bot.runtime_secrets import private_dir, rasa_token
from bot.settings import ATOMIC_REDIS_LOCK_STORE, DEFAULT_DATA_DIR, PROJECT_ROOT, Settings, get_settings

BIN = Path(sys.executable).parent
LOGGING_CONFIG = PROJECT_ROOT / "configs" / "logging.yml"
BACKOFF_CAP_SECONDS = 30.0
STABLE_AFTER_SECONDS = 60.0  # a server up this long has recovered: its next failure waits 1 s again
KEEPS_FAILING_AFTER = 5  # quick failures in a row before the launcher says a server keeps failing


# LOCK_STORE_TYPE values that Rasa gets as our own class: Redis ticket locks that are atomic across replicas.
LOCK_STORE_CLASSES = {"redis": ATOMIC_REDIS_LOCK_STORE}


def service_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment the servers need: endpoints.yml variables with defaults, quiet TensorFlow."""
    env = {**os.environ, **get_settings().service_env, **(extra or {})}
    env["LOCK_STORE_TYPE"] = LOCK_STORE_CLASSES.get(env["LOCK_STORE_TYPE"], env["LOCK_STORE_TYPE"])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
    if env["TRACKER_DB_URL"].startswith("sqlite:///"):
        private_dir(Path(env["TRACKER_DB_URL"][len("sqlite:///") :]).parent)
    return env


def latest_model(model_dir: Path) -> Path:
    """The newest trained model in model_dir."""
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit(f"No trained model in {model_dir}: run `make train` first.")
    return models[-1]


def action_command(port: int) -> List[str]:
    """Command line of the action server (actions/server.py: 127.0.0.1 by default, body cap)."""
    return [str(BIN / "python"), "-m", "actions.server", "--port", str(port)]


def rasa_command(
    port: int, model: Path, token: Optional[str], origins: Sequence[str] = (), interface: Optional[str] = None
) -> List[str]:
    """Command line of the Rasa server: REST + socket.io channels and the token-protected HTTP API.

    Rasa's `rasa run`, started through rasa_components.run: the one start-up point that installs the project's
    adaptations of Rasa (rasa_components/adaptations.py) before Rasa's own CLI runs.

    origins: the web pages allowed to call it from a browser (CORS), default WEB_ALLOWED_ORIGINS.
    interface: where it listens, default RASA_INTERFACE (replicas behind the balancer: 127.0.0.1).
    The launcher always passes a token; token=None (tools starting a bare Rasa) leaves the API open.
    """
    settings = get_settings()
    origins = list(origins or settings.web_allowed_origins)
    command = [
        str(BIN / "python"),
        "-m",
        "rasa_components.run",
        "run",
        "--enable-api",
        "--interface",
        interface or settings.rasa_interface,
        "--port",
        str(port),
        "--model",
        str(model),
        "--endpoints",
        "endpoints.yml",
        "--credentials",
        "credentials.yml",
        "--cors",
        *origins,
    ]
    if LOGGING_CONFIG.exists():
        command += ["--logging-config-file", str(LOGGING_CONFIG)]
    return command + (["--auth-token", token] if token else [])


def web_command(port: int) -> List[str]:
    """Command line of the web server (widget and demo pages)."""
    return [str(BIN / "python"), "-m", "bot.web", "--port", str(port)]


def answers(url: str) -> bool:
    """Whether url answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_until_up(url: str, timeout: float, process: Optional[subprocess.Popen[bytes]] = None) -> None:
    """Poll url until it answers 200, the process exits, or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with code {process.returncode}")
        if answers(url):
            return
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def backoff(failures: int) -> float:
    """Seconds before restarting after the n-th quick failure in a row: 1, 2, 4 ... at most 30."""
    return min(BACKOFF_CAP_SECONDS, 2.0 ** (failures - 1))


def say(message: str) -> None:
    """One launcher line (service names and exit codes only: never a parent's words)."""
    print(f"[serve] {message}", flush=True)


def stop_processes(processes: Iterable[subprocess.Popen[bytes]], how: signal.Signals, grace: float) -> None:
    """Send `how` to every process still running, then kill (and reap) those still running after `grace` seconds."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(how)
    for process in running:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Service:
    """One supervised server process: how to start it, how to see it is up, and its restart state."""

    name: str
    command: List[str]
    health_url: str
    process: Optional[subprocess.Popen[bytes]] = None
    started_at: float = 0.0
    failures: int = 0  # quick failures in a row
    restart_at: Optional[float] = None  # set while an exited process waits for its restart
    key: str = ""  # short id in replicas.json ("rasa", "replica1", "actions1", "balancer" ...)
    port: int = 0
    env: Dict[str, str] = field(default_factory=dict)  # on top of the supervisor's environment
    ready: Optional[Callable[[], bool]] = None  # a fuller check than health_url answering 200, when given

    def start(self, env: Dict[str, str], now: float) -> None:
        """Start (or restart) the process."""
        self.process = subprocess.Popen(self.command, cwd=PROJECT_ROOT, env={**env, **self.env})
        self.started_at, self.restart_at = now, None

    def exited(self, now: float) -> None:
        """Record an unexpected exit and schedule the restart."""
        if now - self.started_at >= STABLE_AFTER_SECONDS:
            self.failures = 0
        self.failures += 1
        delay = backoff(self.failures)
        self.restart_at = now + delay
        code = self.process.returncode if self.process is not None else None
        say(f"the {self.name} stopped (exit code {code}); restarting it in {delay:.0f} s")
        if self.failures >= KEEPS_FAILING_AFTER:
            cap = f"{BACKOFF_CAP_SECONDS:.0f} s"
            say(
                f"the {self.name} keeps failing ({self.failures} quick failures in a row; see its output above): still retrying, at most {cap} apart"
            )


class Supervisor:
    """Keeps the services running: restarts any that exits, with backoff, and stops them all at the end."""

    def __init__(self, services: List[Service], env: Dict[str, str], state_file: Optional[Path] = None) -> None:
        self.services = services
        self.env = env
        self.state_file = state_file  # replicas.json: each service's name, port and current process id

    def start(self) -> None:
        """Start every service."""
        for service in self.services:
            service.start(self.env, time.monotonic())
        self.write_state()

    def write_state(self) -> None:
        """Write every service's name, port and process id (null while it waits for a restart), atomically."""
        if self.state_file is None:
            return
        entries = [
            {
                "key": s.key,
                "service": s.name,
                "port": s.port,
                "pid": s.process.pid if s.process and s.process.poll() is None else None,
            }
            for s in self.services
        ]
        temporary = self.state_file.with_name(f".{self.state_file.name}.tmp")
        temporary.write_text(json.dumps({"services": entries}, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, self.state_file)

    def check(self) -> None:
        """Notice exits and carry out restarts that are due."""
        now = time.monotonic()
        changed = False
        for service in self.services:
            if service.restart_at is None and (service.process is None or service.process.poll() is not None):
                service.exited(now)
                changed = True
            elif service.restart_at is not None and now >= service.restart_at:
                service.start(self.env, now)
                say(f"restarted the {service.name}")
                changed = True
        if changed:
            self.write_state()

    def all_up(self) -> bool:
        """Whether every service answers its health check."""
        return all(
            service.restart_at is None and (service.ready() if service.ready else answers(service.health_url))
            for service in self.services
        )

    def stop(self) -> None:
        """Interrupt every running process, then kill those still running after 15 s."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean stop short
        stop_processes([s.process for s in self.services if s.process is not None], signal.SIGINT, 15)
        if self.state_file is not None:
            self.state_file.unlink(missing_ok=True)


def services_for(settings: Settings, model: Path, token: str, haproxy: str = "haproxy") -> List[Service]:
    """The servers in start order: the action server, the web server and Rasa; with RASA_REPLICAS > 1, an action
    server per replica, the web server, the replicas and HAProxy (the executable `haproxy`) on RASA_PORT."""
    local = f"http://{LOCAL_HOST}"
    web = Service(
        "web server", web_command(settings.web_port), f"{local}:{settings.web_port}/health", key="web", port=settings.web_port
    )
    if settings.rasa_replicas == 1:
        action, rasa = settings.action_port, settings.rasa_port
        return [
            Service("action server", action_command(action), f"{local}:{action}/health", key="actions", port=action),
            web,
            Service("Rasa server", rasa_command(rasa, model, token), f"{local}:{rasa}/", key="rasa", port=rasa),
        ]
    replica_plan = plan(settings)
    actions = [
        Service(
            f"action server {r.index}",
            action_command(r.action_port),
            f"{local}:{r.action_port}/health",
            key=f"actions{r.index}",
            port=r.action_port,
        )
        for r in replica_plan.replicas
    ]
    replicas = [
        Service(
            f"Rasa replica {r.index}",
            rasa_command(r.rasa_port, model, token, interface=LOCAL_HOST),
            f"{local}:{r.rasa_port}/",
            key=r.name,
            port=r.rasa_port,
            env=replica_env(settings, r),
        )
        for r in replica_plan.replicas
    ]
    command = [haproxy, "-db", "-f", str(haproxy_config(settings))]
    stats = f"{local}:{replica_plan.stats_port}/"
    balancer = Service(
        "load balancer",
        command,
        stats,
        key="balancer",
        port=settings.rasa_port,
        env=balancer_env(token),
        ready=lambda: balancer_ready(replica_plan),  # every replica up as HAProxy sees it: the banner is then true
    )
    return [*actions, web, *replicas, balancer]


def legacy_data_hint(settings: Settings) -> Optional[str]:
    """A hint for installs from before runtime data moved from build/ (which `make clean` deletes) to var/."""
    old = PROJECT_ROOT / "build" / "tracker.db"
    if settings.data_dir != DEFAULT_DATA_DIR or DEFAULT_DATA_DIR.exists() or not old.exists():
        return None
    return f"runtime data now lives in {DEFAULT_DATA_DIR}; to keep earlier conversations, stop and move build/tracker.db and build/webchat_secret there"


def banner(settings: Settings) -> str:
    """The ready message (where the token is, never the token itself)."""
    where = "RASA_TOKEN" if settings.rasa_token else f"the file {settings.rasa_token_file}"
    return (
        f"\nThe assistant is ready:\n  Chat widget demo  http://localhost:{settings.web_port}/\n"
        f"  Review dashboard  http://localhost:{settings.web_port}/review  (accounts: python -m bot.review users add)\n"
        f"  Rasa REST         http://localhost:{settings.rasa_port}/webhooks/rest/webhook?token=<token>\n"
        f"  Rasa HTTP API     http://localhost:{settings.rasa_port}/  (token: {where})\n"
        f"  Actions           http://127.0.0.1:{settings.action_port}/health\n{replicas_banner(settings)}Press Ctrl-C to stop.\n"
    )


def replicas_banner(settings: Settings) -> str:
    """The banner's lines about the replicas behind HAProxy (none for one Rasa)."""
    if settings.rasa_replicas == 1:
        return ""
    replicas = plan(settings).replicas
    rasa = ", ".join(str(r.rasa_port) for r in replicas)
    actions = ", ".join(str(r.action_port) for r in replicas)
    return (
        f"  Replicas          {len(replicas)} Rasa replicas behind HAProxy on port {settings.rasa_port}: 127.0.0.1 ports {rasa},\n"
        f"                    their action servers on {actions}; statistics http://127.0.0.1:{plan(settings).stats_port}/\n"
    )


def _terminate(*_: object) -> NoReturn:
    raise SystemExit(0)


def main(argv: Optional[List[str]] = None) -> int:
    """Run and supervise the servers until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model archive (default: newest in models/)")
    args = parser.parse_args(argv)
    settings = get_settings()
    model = args.model or latest_model(settings.model_dir)
    hint = legacy_data_hint(settings)
    if hint:
        say(hint)
    private_dir(settings.data_dir)
    token = rasa_token(settings)
    env, haproxy = {"RASA_TOKEN": token}, "haproxy"
    if settings.rasa_replicas > 1:
        try:
            haproxy, stores = prepare_replicas(settings, token)
        except ReplicaError as error:
            say(str(error))
            return 2
        env.update(stores)
    services = services_for(settings, model, token, haproxy)
    supervisor = Supervisor(services, service_env(env), settings.data_dir / "replicas.json")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        supervisor.start()
        ready = False
        while True:
            supervisor.check()
            if not ready and supervisor.all_up():
                print(banner(settings), flush=True)
                ready = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
