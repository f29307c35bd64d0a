"""Dashboard accounts: argon2 password hashes, server-side sessions, CSRF tokens, sign-in throttling."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from bot.review.models import login_attempts, sessions, users

REVIEWER = "reviewer"  # reads conversations, tags, notes, marks them reviewed, corrects intents
ADMIN = "admin"  # also exports, erases, manages accounts and reads the audit log
ROLES = (REVIEWER, ADMIN)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 12
IDLE_SECONDS = 30 * 60  # a session ends after 30 minutes without a request...
MAX_SECONDS = 12 * 3600  # ...and after 12 hours in any case
MAX_FAILURES = 5  # failed sign-ins per account (or 4x per address) within the window lock it out
FAILURE_WINDOW = 15 * 60
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")  # keeps unknown names as slow as known ones


class AccountError(ValueError):
    """A refused account change or sign-in, with a message for the person."""


class SignInThrottled(AccountError):
    """Sign-in refused without checking the password: this account or address failed too often recently."""


@dataclass(frozen=True)
class User:
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(engine: Engine, username: str, password: str, role: str) -> User:
    """Create an account; names are lower-case, passwords at least 12 characters."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("A user name is 2-32 lower-case letters, digits, dots, dashes or underscores.")
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    check_password(password)
    with engine.begin() as connection:
        if connection.execute(sa.select(users.c.username).where(users.c.username == username)).first():
            raise AccountError(f"There is already a user called {username}.")
        connection.execute(
            users.insert().values(
                username=username, password_hash=_hasher.hash(password), role=role, active=True, created_at=time.time()
            )
        )
    return User(username, role)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")


def set_password(engine: Engine, username: str, password: str) -> None:
    check_password(password)
    _update(engine, username, password_hash=_hasher.hash(password))
    end_sessions(engine, username)


def set_role(engine: Engine, username: str, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    _update(engine, username, role=role)


def set_active(engine: Engine, username: str, active: bool) -> None:
    _update(engine, username, active=active)
    if not active:
        end_sessions(engine, username)


def _update(engine: Engine, username: str, **values: object) -> None:
    with engine.begin() as connection:
        if connection.execute(users.update().where(users.c.username == username).values(**values)).rowcount == 0:
            raise AccountError(f"There is no user called {username}.")


def change_user(engine: Engine, actor: str, action: str, username: str, password: str = "", role: Optional[str] = None) -> None:
    """One change from the users page: `add` (with password and role, reviewer if none given), `role`, `disable` or
    `enable` an account. AccountError says why a change is refused; nobody can disable their own account."""
    if action == "add":
        add_user(engine, username, password, REVIEWER if role is None else role)
    elif action == "role":
        set_role(engine, username, role or "")
    elif action in ("disable", "enable"):
        if username == actor:
            raise AccountError("You cannot disable your own account.")
        set_active(engine, username, action == "enable")
    else:
        raise AccountError("Unknown change.")


def list_users(engine: Engine) -> List[Dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(users.c.username, users.c.role, users.c.active, users.c.created_at).order_by(users.c.username)
        )
        return [dict(r._mapping) for r in rows]


def throttled(engine: Engine, username: str, address: str, now: Optional[float] = None) -> bool:
    """True when this account or address has failed too often recently."""
    since = (now or time.time()) - FAILURE_WINDOW
    with engine.connect() as connection:

        def count(clause: Any) -> int:
            query = sa.select(sa.func.count()).select_from(login_attempts).where(clause, login_attempts.c.at >= since)
            return int(connection.execute(query).scalar() or 0)

        return (
            count(login_attempts.c.username == username) >= MAX_FAILURES
            or count(login_attempts.c.address == address) >= 4 * MAX_FAILURES
        )


def sign_in(engine: Engine, username: str, password: str, address: str) -> str:
    """Check the password and open a session; return the session token for the cookie."""
    username = (username or "").strip().lower()[:64]
    if throttled(engine, username, address):
        raise SignInThrottled("Too many failed sign-ins. Wait 15 minutes, then try again.")
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password or "")
        ok = row is not None and row.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        with engine.begin() as connection:
            connection.execute(login_attempts.insert().values(username=username, address=address[:64], at=time.time()))
        raise AccountError("That user name and password do not match an active account.")
    token = secrets.token_urlsafe(32)
    now = time.time()
    with engine.begin() as connection:
        connection.execute(login_attempts.delete().where(login_attempts.c.username == username))
        connection.execute(
            sessions.insert().values(
                token_hash=_hash_token(token),
                username=username,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen=now,
            )
        )
        if row and _hasher.check_needs_rehash(row.password_hash):
            connection.execute(users.update().where(users.c.username == username).values(password_hash=_hasher.hash(password)))
    return token


def session_for(engine: Engine, token: Optional[str], now: Optional[float] = None) -> Optional[Session]:
    """The live session for a cookie value (refreshing its idle timer), or None."""
    if not token:
        return None
    now = now or time.time()
    key = _hash_token(token)
    with engine.begin() as connection:
        row = connection.execute(
            sa.select(sessions, users.c.role, users.c.active)
            .join(users, users.c.username == sessions.c.username)
            .where(sessions.c.token_hash == key)
        ).first()
        if row is None:
            return None
        if not row.active or now - row.last_seen > IDLE_SECONDS or now - row.created_at > MAX_SECONDS:
            connection.execute(sessions.delete().where(sessions.c.token_hash == key))
            return None
        if now - row.last_seen > 30:
            connection.execute(sessions.update().where(sessions.c.token_hash == key).values(last_seen=now))
    return Session(User(row.username, row.role), row.csrf_token)


def sign_out(engine: Engine, token: Optional[str]) -> None:
    if token:
        with engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.token_hash == _hash_token(token)))


def end_sessions(engine: Engine, username: str) -> None:
    with engine.begin() as connection:
        connection.execute(sessions.delete().where(sessions.c.username == username))


def csrf_ok(expected: Optional[str], given: Optional[str]) -> bool:
    """Constant-time comparison of the session's CSRF token with the form's."""
    return bool(expected) and bool(given) and hmac.compare_digest(expected or "", given or "")
