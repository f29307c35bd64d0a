"""Runtime secrets: a configured value, else one made at random once and kept owner-only in the data dir.

The web chat's signing secret and the Rasa HTTP API token both come from here, so nothing runs open
because a variable was left unset. (Named runtime_secrets so it never shadows the standard `secrets`.)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, Optional

from bot.settings import Settings

MIN_SECRET_BYTES = 32


def private_dir(path: Path) -> Path:
    """Create the directory path (and its parents) when missing; the directory itself owner-only (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def load_or_create_secret(
    configured: Optional[str],
    path: Path,
    name: str = "WEBCHAT_SECRET",
    make: Callable[[], str] = lambda: secrets.token_hex(32),
) -> bytes:
    """The configured secret, else the one kept in path (created once with make(), atomically, mode 0600).

    A secret shorter than 32 bytes is refused: an empty or truncated key would let anyone forge what
    it protects.
    """
    if configured:
        secret = configured.encode()
    else:
        try:
            secret = path.read_bytes().strip()
        except FileNotFoundError:
            secret = _create_secret(path, make().encode())
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"The secret {name if configured else path} is shorter than {MIN_SECRET_BYTES} bytes.")
    return secret


def rasa_token(settings: Settings) -> str:
    """RASA_TOKEN when set (any length: the operator's choice), else the generated <DATA_DIR>/rasa_token."""
    if settings.rasa_token:
        return settings.rasa_token
    make = lambda: secrets.token_urlsafe(32)  # noqa: E731 - 43 URL-safe characters, fine in ?token=
    return load_or_create_secret(None, settings.rasa_token_file, "RASA_TOKEN", make).decode()


def messaging_secret(settings: Settings) -> bytes:
    """MESSAGING_SECRET, else <DATA_DIR>/messaging_secret, created as a copy of the web-chat secret.

    Telegram and WhatsApp conversation ids are HMACs of the platform's id under this secret; before it
    existed they used the web-chat secret, so starting from a copy keeps those conversations' ids.
    """
    webchat = lambda: load_or_create_secret(settings.webchat_secret, settings.webchat_secret_file).decode()  # noqa: E731
    return load_or_create_secret(settings.messaging_secret, settings.messaging_secret_file, "MESSAGING_SECRET", webchat)


def _create_secret(path: Path, value: bytes) -> bytes:
    """Write value to a temporary file, then link it into place (never half-written; the first writer wins)."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    try:
        os.link(temporary, path)  # fails if another process created it first
    except FileExistsError:
        value = path.read_bytes().strip()
    finally:
        temporary.unlink()
    return value
