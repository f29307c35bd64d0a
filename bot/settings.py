"""The one place that reads configuration (environment variables, with embedded defaults).

Every variable is documented in .env.example. Variables may also be put in the project's `.env` file
(KEY=VALUE lines); a variable set in the real environment wins over the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"  # runtime data (tracker store, secrets): not derived, `make clean` keeps it
# The lock store class LOCK_STORE_TYPE=redis stands for (bot/serve.py passes it to Rasa under this name).
ATOMIC_REDIS_LOCK_STORE = "rasa_components.lock_store.AtomicRedisLockStore"


@dataclass(frozen=True)
class Settings:
    """Runtime settings."""

    knowledge_dir: Path
    knowledge_db: Path
    max_reasks: int
    rasa_port: int
    action_port: int
    rasa_token: Optional[str]  # as configured; when unset, bot.runtime_secrets.rasa_token() makes one
    rasa_token_file: Path  # where a generated Rasa token is kept (mode 0600)
    rasa_interface: str  # address Rasa listens on (public: it serves the chat channels)
    action_interface: str  # address the action server listens on (only Rasa calls it)
    action_max_body_bytes: int  # largest request the action server accepts (after decompression too)
    data_dir: Path  # runtime data: tracker store, secrets (owner-only)
    model_dir: Path
    service_env: Dict[str, str]  # variables endpoints.yml reads, with defaults filled in
    web_port: int
    web_public_url: str  # where a parent's browser reaches the web server (links to appointment summaries)
    appointment_link_days: float  # an appointment summary link expires this long after it was made
    web_allowed_origins: Tuple[str, ...]  # origins whose pages may open the chat widget ("*" = any)
    rasa_public_url: str  # where a browser reaches Rasa's socket.io channel
    webchat_secret: Optional[str]  # signs widget session tokens; default: a file in data_dir
    webchat_secret_file: Path
    webchat_session_days: float  # a widget session token expires this long after it was issued (renewed on each visit)
    messaging_secret: Optional[str]  # turns Telegram/WhatsApp ids into conversation ids; default: a file in data_dir
    messaging_secret_file: Path
    max_message_chars: int  # longest chat message passed to Rasa, on every channel
    max_request_bytes: int  # largest chat request body (REST, socket.io, platform webhooks)
    rate_limit_per_conversation: str  # "<messages>/<seconds>"; "0" switches it off
    rate_limit_per_address: str  # per client address (REST, socket.io)
    rate_limit_per_platform: str  # all of one platform's webhook calls together (Telegram, WhatsApp)
    rate_limit_exempt: Tuple[str, ...]  # addresses/networks without a per-address limit (local tools)
    rate_limit_redis_url: Optional[str]  # shared counts across replicas; default: the Redis lock store's server
    trusted_proxies: Tuple[str, ...]  # peers whose X-Forwarded-For names the client
    telegram_token: Optional[str]  # Telegram is enabled when this and telegram_webhook_secret are set
    telegram_webhook_secret: Optional[str]
    telegram_api_url: str
    twilio_account_sid: Optional[str]  # WhatsApp is enabled when sid, token and number are set
    twilio_auth_token: Optional[str]
    twilio_whatsapp_number: Optional[str]  # the sender, e.g. whatsapp:+14155238886
    twilio_webhook_url: Optional[str]  # the public URL Twilio calls (signatures are computed over it)
    twilio_api_url: str
    review_retention_days: int  # conversations older than this are deleted by `python -m bot.review retention`
    review_cookie_secure: bool  # mark the dashboard's session cookie Secure (browsers allow it on localhost)
    rasa_replicas: int  # Rasa processes behind HAProxy on rasa_port (1: one Rasa on rasa_port, no balancer)
    replica_port_offset: int  # replica i listens on rasa_port + offset + i, its action server on action_port + offset + i
    haproxy: str  # the HAProxy executable (RASA_REPLICAS > 1)
    tracker_store_configured: bool  # TRACKER_DB_URL was set (else the replicas look for a local PostgreSQL)
    lock_store_configured: bool  # LOCK_STORE_TYPE was set (else the replicas look for a local Redis)


def parse_env_file(lines: Iterable[str]) -> Dict[str, str]:
    """KEY=VALUE lines (optional `export `, # comments, values optionally in matching quotes); empty values skipped."""
    values = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, value = (part.strip() for part in line.split("=", 1))
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        if key and value:
            values[key] = value
    return values


def _load_env_file() -> None:
    """Apply the .env file (ENV_FILE, default <project>/.env) to os.environ; the real environment wins."""
    path = Path(os.environ.get("ENV_FILE") or PROJECT_ROOT / ".env")
    if path.is_file():
        for key, value in parse_env_file(path.read_text(encoding="utf-8").splitlines()).items():
            os.environ.setdefault(key, value)


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read settings from the environment (and the .env file) once."""
    _load_env_file()
    action_port = int(_env("ACTION_PORT", "5055"))
    data_dir = _path("DATA_DIR", DEFAULT_DATA_DIR)
    rasa_port = int(_env("RASA_PORT", "5005"))
    web_port = int(_env("WEB_PORT", "8000"))
    default_origins = f"http://localhost:{web_port} http://127.0.0.1:{web_port}"
    service_env = {
        "ACTION_SERVER_URL": _env("ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}/webhook"),
        "TRACKER_DB_DIALECT": _env("TRACKER_DB_DIALECT", "sqlite"),
        "TRACKER_DB_URL": _env("TRACKER_DB_URL", f"sqlite:///{data_dir / 'tracker.db'}"),
        "TRACKER_WINDOW_TURNS": _env("TRACKER_WINDOW_TURNS", "8"),
        "LOCK_STORE_TYPE": _env("LOCK_STORE_TYPE", "in_memory"),
        "LOCK_STORE_HOST": _env("LOCK_STORE_HOST", "127.0.0.1"),
        "LOCK_STORE_PORT": _env("LOCK_STORE_PORT", "6379"),
        "RASA_TELEMETRY_ENABLED": "false",  # no calls to outside hosts
    }
    return Settings(
        knowledge_dir=_path("KNOWLEDGE_DIR", PROJECT_ROOT / "knowledge"),
        knowledge_db=_path("KNOWLEDGE_DB", PROJECT_ROOT / "build" / "knowledge.db"),
        max_reasks=int(_env("TRIAGE_MAX_REASKS", "1")),
        rasa_port=rasa_port,
        action_port=action_port,
        rasa_token=os.environ.get("RASA_TOKEN") or None,
        rasa_token_file=data_dir / "rasa_token",
        rasa_interface=_env("RASA_INTERFACE", "0.0.0.0"),
        action_interface=_env("ACTION_INTERFACE", "127.0.0.1"),
        action_max_body_bytes=int(_env("ACTION_MAX_BODY_BYTES", str(8 * 1024 * 1024))),
        data_dir=data_dir,
        model_dir=_path("MODEL_DIR", PROJECT_ROOT / "models"),
        service_env=service_env,
        web_port=web_port,
        web_public_url=_env("WEB_PUBLIC_URL", f"http://localhost:{web_port}").rstrip("/"),
        appointment_link_days=float(_env("APPOINTMENT_LINK_DAYS", "7")),
        web_allowed_origins=tuple(_env("WEB_ALLOWED_ORIGINS", default_origins).replace(",", " ").split()),
        rasa_public_url=_env("RASA_PUBLIC_URL", f"http://localhost:{rasa_port}").rstrip("/"),
        webchat_secret=os.environ.get("WEBCHAT_SECRET") or None,
        webchat_secret_file=data_dir / "webchat_secret",
        webchat_session_days=float(_env("WEBCHAT_SESSION_DAYS", "30")),
        messaging_secret=os.environ.get("MESSAGING_SECRET") or None,
        messaging_secret_file=data_dir / "messaging_secret",
        max_message_chars=int(_env("MAX_MESSAGE_CHARS", _env("WEBCHAT_MAX_MESSAGE_CHARS", "1000"))),
        max_request_bytes=int(_env("MAX_REQUEST_BYTES", str(2 * 1024 * 1024))),
        rate_limit_per_conversation=_env("RATE_LIMIT_PER_CONVERSATION", "20/60"),
        rate_limit_per_address=_env("RATE_LIMIT_PER_ADDRESS", "120/60"),
        rate_limit_per_platform=_env("RATE_LIMIT_PER_PLATFORM", "1200/60"),
        rate_limit_exempt=tuple(
            a for a in os.environ.get("RATE_LIMIT_EXEMPT", "127.0.0.1 ::1").replace(",", " ").split() if a != "none"
        ),
        rate_limit_redis_url=os.environ.get("RATE_LIMIT_REDIS_URL")
        or (
            f"redis://{service_env['LOCK_STORE_HOST']}:{service_env['LOCK_STORE_PORT']}/0"
            if service_env["LOCK_STORE_TYPE"] in ("redis", ATOMIC_REDIS_LOCK_STORE)  # the Rasa process sees the class
            else None
        ),
        trusted_proxies=tuple(_env("TRUSTED_PROXIES", "").replace(",", " ").split()),
        telegram_token=os.environ.get("TELEGRAM_TOKEN") or None,
        telegram_webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET") or None,
        telegram_api_url=_env("TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/"),
        twilio_account_sid=os.environ.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=os.environ.get("TWILIO_AUTH_TOKEN") or None,
        twilio_whatsapp_number=os.environ.get("TWILIO_WHATSAPP_NUMBER") or None,
        twilio_webhook_url=os.environ.get("TWILIO_WEBHOOK_URL") or None,
        twilio_api_url=_env("TWILIO_API_URL", "https://api.twilio.com").rstrip("/"),
        review_retention_days=int(_env("REVIEW_RETENTION_DAYS", "365")),
        review_cookie_secure=_env("REVIEW_COOKIE_SECURE", "true").lower() not in ("0", "false", "no"),
        rasa_replicas=max(1, int(_env("RASA_REPLICAS", "1"))),
        replica_port_offset=int(_env("REPLICA_PORT_OFFSET", "1000")),
        haproxy=_env("HAPROXY", "haproxy"),
        tracker_store_configured=bool(os.environ.get("TRACKER_DB_URL")),
        lock_store_configured=bool(os.environ.get("LOCK_STORE_TYPE")),
    )
