"""Several Rasa replicas behind HAProxy (RASA_REPLICAS=N, N > 1): ports, shared stores, the balancer's config.

Port scheme (offset = REPLICA_PORT_OFFSET, default 1000): HAProxy listens on RASA_PORT (where one Rasa listens
when N = 1) and serves read-only statistics on 127.0.0.1:RASA_PORT+offset; replica i (1..N) listens on
127.0.0.1:RASA_PORT+offset+i and calls its own action server, on ACTION_PORT for replica 1 (the public contract's
port) and 127.0.0.1:ACTION_PORT+offset+i for the others. The web server stays on WEB_PORT.

Replicas must share the tracker store and the lock store: SQLite and the in-memory lock store are refused.
When TRACKER_DB_URL or LOCK_STORE_TYPE is not set, the local PostgreSQL (database `caregiver`, created when
missing, as the OS user) and Redis on 127.0.0.1 are used if they answer.
plan() and render_haproxy() are pure; prepare_replicas() checks and sets up this machine before the launcher
starts them.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import socket
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple
from urllib.parse import quote

from bot.runtime_secrets import messaging_secret
from bot.settings import ATOMIC_REDIS_LOCK_STORE, PROJECT_ROOT, Settings

HAPROXY_TEMPLATE = PROJECT_ROOT / "configs" / "haproxy.cfg"
LOCAL_HOST, POSTGRES_PORT, REDIS_PORT = "127.0.0.1", 5432, 6379
LOCAL_DATABASE = "caregiver"
LOCAL_TRACKER_URL = f"postgresql://{LOCAL_HOST}:{POSTGRES_PORT}/{LOCAL_DATABASE}"  # as the OS user
REDIS_LOCK_STORES = ("redis", ATOMIC_REDIS_LOCK_STORE)


class ReplicaError(Exception):
    """A configuration several replicas cannot run with; the message says what to set."""


@dataclass(frozen=True)
class Replica:
    """One Rasa replica and the action server it calls."""

    index: int  # 1..N
    rasa_port: int
    action_port: int

    @property
    def name(self) -> str:
        """The replica's name in HAProxy (statistics) and in DATA_DIR/replicas.json."""
        return f"replica{self.index}"


@dataclass(frozen=True)
class ReplicaPlan:
    """Where everything listens when N replicas run behind the balancer."""

    replicas: Tuple[Replica, ...]
    bind: str  # HAProxy's public address:port (RASA_INTERFACE, RASA_PORT)
    stats_port: int


def plan(settings: Settings) -> ReplicaPlan:
    """The ports of settings.rasa_replicas replicas; ReplicaError when two would collide or are out of range."""
    offset, count = settings.replica_port_offset, settings.rasa_replicas
    replicas = tuple(
        Replica(
            index=i,
            rasa_port=settings.rasa_port + offset + i,
            action_port=settings.action_port if i == 1 else settings.action_port + offset + i,
        )
        for i in range(1, count + 1)
    )
    stats_port = settings.rasa_port + offset
    ports = [settings.rasa_port, settings.web_port, stats_port]
    ports += [port for replica in replicas for port in (replica.rasa_port, replica.action_port)]
    if len(set(ports)) != len(ports) or not all(0 < port < 65536 for port in ports):
        raise ReplicaError(
            f"RASA_REPLICAS={count}: the ports RASA_PORT+{offset}+i and ACTION_PORT+{offset}+i collide with each other or"
            " with RASA_PORT, ACTION_PORT or WEB_PORT, or pass 65535: choose other ports or set REPLICA_PORT_OFFSET."
        )
    interface = settings.rasa_interface
    host = f"[{interface}]" if ":" in interface else interface
    return ReplicaPlan(replicas=replicas, bind=f"{host}:{settings.rasa_port}", stats_port=stats_port)


def render_haproxy(replica_plan: ReplicaPlan, template: str) -> str:
    """configs/haproxy.cfg with its placeholders filled in: the bind address, the server lines, the stats port."""
    names = [replica.name for replica in replica_plan.replicas]
    addresses = [f"{LOCAL_HOST}:{replica.rasa_port}" for replica in replica_plan.replicas]
    values = {
        "bind": replica_plan.bind,
        "stats_port": str(replica_plan.stats_port),
        "replica_servers": "\n".join(f"    server {n} {a} check" for n, a in zip(names, addresses, strict=True)),
        "socketio_servers": "\n".join(f"    server {n} {a} track replicas/{n}" for n, a in zip(names, addresses, strict=True)),
    }
    text = template
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    left = re.findall(r"\$\{[a-z_]+\}", text)  # upper-case names are HAProxy's own environment variables
    if left:
        raise ValueError(f"{HAPROXY_TEMPLATE.name}: no value for {', '.join(sorted(set(left)))}")
    return text


def replica_env(settings: Settings, replica: Replica) -> Dict[str, str]:
    """What a replica's Rasa process gets on top of the common environment: its action server, and HAProxy
    (connecting from 127.0.0.1) as a trusted proxy, so rate limits see the client's X-Forwarded-For address."""
    trusted = dict.fromkeys([*settings.trusted_proxies, LOCAL_HOST])
    return {
        "ACTION_SERVER_URL": f"http://{LOCAL_HOST}:{replica.action_port}/webhook",
        "TRUSTED_PROXIES": " ".join(trusted),
    }


def balancer_ready(replica_plan: ReplicaPlan) -> bool:
    """Whether HAProxy runs and sees every replica up (its statistics, as CSV)."""
    try:
        with urllib.request.urlopen(f"http://{LOCAL_HOST}:{replica_plan.stats_port}/;csv", timeout=2) as response:
            table = response.read().decode("utf-8", errors="replace")
    except OSError:
        return False
    rows = csv.DictReader(io.StringIO(table.lstrip("# ")))
    up = {row["svname"] for row in rows if row.get("pxname") == "replicas" and (row.get("status") or "").startswith("UP")}
    return all(replica.name in up for replica in replica_plan.replicas)


def balancer_env(token: str) -> Dict[str, str]:
    """What HAProxy runs with: the Rasa token for its health checks on /status, URL-encoded."""
    return {"RASA_STATUS_TOKEN": quote(token, safe="")}


def port_open(port: int, host: str = LOCAL_HOST) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def shared_stores(settings: Settings, reachable: Callable[[int], bool] = port_open) -> Dict[str, str]:
    """The tracker and lock store variables several replicas run with (empty when the configured ones do).

    ReplicaError for SQLite or the in-memory lock store, or when nothing is configured and the local
    PostgreSQL or Redis does not answer."""
    env: Dict[str, str] = {}
    count = settings.rasa_replicas
    if settings.tracker_store_configured:
        if settings.service_env["TRACKER_DB_URL"].startswith("sqlite"):
            raise ReplicaError(
                f"RASA_REPLICAS={count} needs a tracker store every replica shares, not SQLite (each replica would keep"
                " its own copy and conversations would lose turns): set TRACKER_DB_DIALECT=postgresql and"
                " TRACKER_DB_URL=postgresql://user:password@host:5432/database, or RASA_REPLICAS=1."
            )
    elif reachable(POSTGRES_PORT):
        env.update(TRACKER_DB_DIALECT="postgresql", TRACKER_DB_URL=LOCAL_TRACKER_URL)
    else:
        raise ReplicaError(
            f"RASA_REPLICAS={count} needs a shared PostgreSQL tracker store and nothing answers on"
            f" {LOCAL_HOST}:{POSTGRES_PORT}: start PostgreSQL there, or set TRACKER_DB_DIALECT=postgresql and"
            " TRACKER_DB_URL=postgresql://user:password@host:5432/database."
        )
    if settings.lock_store_configured:
        if settings.service_env["LOCK_STORE_TYPE"] == "in_memory":
            raise ReplicaError(
                f"RASA_REPLICAS={count} needs a lock store every replica shares, not the in-memory one (two replicas"
                " could answer one conversation at once): set LOCK_STORE_TYPE=redis, LOCK_STORE_HOST and LOCK_STORE_PORT."
            )
    elif reachable(REDIS_PORT):
        env.update(LOCK_STORE_TYPE="redis", LOCK_STORE_HOST=LOCAL_HOST, LOCK_STORE_PORT=str(REDIS_PORT))
    else:
        raise ReplicaError(
            f"RASA_REPLICAS={count} needs a shared Redis lock store and nothing answers on {LOCAL_HOST}:{REDIS_PORT}:"
            " start Redis there, or set LOCK_STORE_TYPE=redis, LOCK_STORE_HOST and LOCK_STORE_PORT."
        )
    return env


def create_local_database(name: str = LOCAL_DATABASE) -> None:
    """Create the local PostgreSQL database `name` when missing (as the OS user, via the `postgres` database)."""
    import sqlalchemy  # only when several replicas use the local server

    engine = sqlalchemy.create_engine(f"postgresql://{LOCAL_HOST}:{POSTGRES_PORT}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            found = connection.execute(sqlalchemy.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if found.first() is None:
                connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", error)).strip()
        raise ReplicaError(
            f"Could not use the PostgreSQL database {name} on {LOCAL_HOST}:{POSTGRES_PORT} as this OS user ({reason}): set"
            " TRACKER_DB_DIALECT=postgresql and TRACKER_DB_URL=postgresql://user:password@host:5432/database."
        ) from error
    finally:
        engine.dispose()


def haproxy_path(configured: str) -> Path:
    """The HAProxy executable (HAPROXY, else on PATH, else Debian's /usr/sbin/haproxy); ReplicaError when missing."""
    found: Optional[str] = shutil.which(configured)
    if found is None and "/" not in configured:
        found = shutil.which(configured, path="/usr/sbin:/usr/local/sbin")  # often not on a user's PATH
    if not found:
        raise ReplicaError(
            "Several Rasa replicas run behind HAProxy, which is not installed: `make balancer` installs it"
            " (Debian/Ubuntu: sudo apt-get install haproxy), or set HAPROXY=/path/to/haproxy."
        )
    return Path(found)


def haproxy_config(settings: Settings) -> Path:
    """Where the launcher writes the rendered HAProxy configuration."""
    return settings.data_dir / "haproxy.cfg"


def prepare_replicas(settings: Settings, token: str) -> Tuple[str, Dict[str, str]]:
    """Check and set up what the replicas need: HAProxy and its checked configuration in DATA_DIR, the shared
    stores (the local database created when used), the web-chat and messaging secrets made once before the
    replicas start. Returns the HAProxy executable and the store variables; ReplicaError says what to set."""
    haproxy = haproxy_path(settings.haproxy)
    replica_plan = plan(settings)
    stores = shared_stores(settings)
    if stores.get("TRACKER_DB_URL") == LOCAL_TRACKER_URL:
        create_local_database()
    path = haproxy_config(settings)
    path.write_text(render_haproxy(replica_plan, HAPROXY_TEMPLATE.read_text(encoding="utf-8")), encoding="utf-8")
    path.chmod(0o600)
    command = [str(haproxy), "-c", "-q", "-f", str(path)]
    checked = subprocess.run(command, capture_output=True, text=True, timeout=30, env=balancer_env(token))
    if checked.returncode != 0:
        raise ReplicaError(f"HAProxy refused {path}: {(checked.stderr or checked.stdout).strip()}")
    messaging_secret(settings)  # creates the web-chat secret too: every replica then reads the same files
    return str(haproxy), stores
