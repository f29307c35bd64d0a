"""Rate limits for the chat channels, without Rasa: sliding windows per conversation, client address and platform.

A rule "20/60" allows 20 messages in any 60 seconds; "0" switches a limit off. A message is checked against
all the limits that apply to it at once, and counts against them only when all allow it: a client that keeps
retrying gets through at the allowed rate, and a refused message never uses up another bucket. Two backends:

- `MemoryBackend`: one process (the default);
- `RedisBackend`: shared by every Rasa replica (used when LOCK_STORE_TYPE=redis or RATE_LIMIT_REDIS_URL is
  set). One Lua script per check, so concurrent checks from any replica never over-admit, with Redis's clock
  as the only clock. When Redis cannot be reached it fails open (the message is allowed, a warning is logged):
  a parent is never left without a reply because the limiter is down.

Keys hold conversation ids and addresses, so they are never logged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Deque, Iterable, List, Optional, Protocol, Sequence, Tuple, Union

from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


@dataclass(frozen=True)
class Rule:
    """At most `limit` messages in any `window` seconds."""

    limit: int
    window: float

    @classmethod
    def parse(cls, value: str, name: str = "rate limit") -> Optional[Rule]:
        """ "20/60" -> Rule(20, 60.0); "0", "0/60" or "" -> None (no limit)."""
        text = (value or "0").strip()
        count, _, seconds = text.partition("/")
        try:
            limit, window = int(count), float(seconds or 60)
        except ValueError:
            raise ValueError(f"{name}: expected <messages>/<seconds> such as 20/60, got {value!r}") from None
        if limit < 0 or window <= 0:
            raise ValueError(f"{name}: expected <messages>/<seconds> such as 20/60, got {value!r}")
        return cls(limit, window) if limit else None


@dataclass(frozen=True)
class Decision:
    """Whether a message may go on; if not, when the next one may (seconds)."""

    allowed: bool
    retry_after: float = 0.0


ALLOWED = Decision(True)


Checks = Sequence[Tuple[str, Rule]]


class Backend(Protocol):
    """Counts hits per key."""

    async def hit(self, checks: Checks) -> Decision:
        """Record a hit on every key if every key's rule allows it; say whether it did."""


class MemoryBackend:
    """Sliding windows in this process: the times of the allowed hits per key (the oldest keys are dropped)."""

    def __init__(self, max_keys: int = 100_000, clock: Any = time.monotonic) -> None:
        self._hits: OrderedDict[str, Deque[float]] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    async def hit(self, checks: Checks) -> Decision:
        """Record a hit on every key if each has fewer than its rule's limit in the last window (no await: atomic)."""
        now = self._clock()
        windows = [(self._window(key, rule, now), rule) for key, rule in checks]
        waits = [hits[0] + rule.window - now for hits, rule in windows if len(hits) >= rule.limit]
        if waits:
            return Decision(False, max(0.0, max(waits)))
        for hits, _ in windows:
            hits.append(now)
        return ALLOWED

    def _window(self, key: str, rule: Rule, now: float) -> Deque[float]:
        """The hits on key within the rule's window (older ones dropped); the least recently used key goes first."""
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            if len(self._hits) > self._max_keys:
                self._hits.popitem(last=False)
        self._hits.move_to_end(key)
        while hits and hits[0] <= now - rule.window:
            hits.popleft()
        return hits


# KEYS: the keys; ARGV: a unique member, then limit and window (ms) per key.
# Returns {1, 0} when every key had room (a hit is then recorded on each), else {0, wait in ms}.
SLIDING_WINDOW_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local wait = -1
for i = 1, #KEYS do
  local limit, window = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait >= 0 then
  return {0, wait}
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i + 1]))
end
return {1, 0}
"""


class RedisBackend:
    """Sliding windows in Redis (a sorted set of hit times per key), checked and updated atomically by one script."""

    def __init__(self, url: str, prefix: str = "caregiver:ratelimit:", timeout: float = 0.5, warn_every: float = 60.0) -> None:
        self.url, self.prefix, self.timeout, self.warn_every = url, prefix, timeout, warn_every
        self._client: Any = None
        self._script: Any = None
        self._last_warning = float("-inf")

    def _connect(self) -> Any:
        if self._script is None:
            import redis.asyncio  # only when Redis is configured

            self._client = redis.asyncio.from_url(self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout)
            self._script = self._client.register_script(SLIDING_WINDOW_LUA)
        return self._script

    async def hit(self, checks: Checks) -> Decision:
        """Record a hit on every key if every rule allows it; allow (and warn) when Redis cannot answer."""
        if not checks:
            return ALLOWED
        args: List[Union[str, int]] = [f"{time.time_ns()}-{secrets.token_hex(4)}"]
        for _, rule in checks:
            args += [rule.limit, int(rule.window * 1000)]
        try:
            script = self._connect()
            allowed, retry_ms = await asyncio.wait_for(
                script(keys=[self.prefix + key for key, _ in checks], args=args), self.timeout * 4
            )
        except Exception as error:  # noqa: BLE001 - any Redis trouble: fail open, never leave a parent unanswered
            self._warn(error)
            return ALLOWED
        return ALLOWED if int(allowed) else Decision(False, int(retry_ms) / 1000)

    def _warn(self, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning >= self.warn_every:
            self._last_warning = now
            logger.warning(
                "Rate limits are not enforced: Redis did not answer (%s). Messages are let through.", type(error).__name__
            )

    async def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.close()
            self._client = self._script = None


def networks(values: Iterable[str]) -> Tuple[Network, ...]:
    """Addresses or networks ("10.0.0.0/8", "::1") as network objects; a bad entry is a configuration error."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def _in(address: str, within: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in within)


def client_address(peer: Optional[str], forwarded_for: Optional[str], trusted_proxies: Sequence[Network]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the nearest untrusted X-Forwarded-For hop."""
    address = (peer or "").strip()
    if not forwarded_for or not _in(address, trusted_proxies):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a malformed chain: trust none of it
        if not _in(hop, trusted_proxies):
            return hop
        address = hop
    return address


class RateLimiter:
    """The channel's limits: per conversation, per client address (except exempt ones) and per platform webhook."""

    def __init__(
        self,
        backend: Backend,
        per_conversation: Optional[Rule],
        per_address: Optional[Rule],
        per_platform: Optional[Rule] = None,
        exempt: Sequence[Network] = (),
    ) -> None:
        self.backend = backend
        self.per_conversation, self.per_address, self.per_platform = per_conversation, per_address, per_platform
        self.exempt = tuple(exempt)

    async def check(
        self, *, conversation: Optional[str] = None, address: Optional[str] = None, platform: Optional[str] = None
    ) -> Decision:
        """Count one message against every limit that applies, or refuse it when any is full."""
        checks = []
        if platform and self.per_platform:
            checks.append((f"platform:{platform}", self.per_platform))
        if address and self.per_address and not _in(address, self.exempt):
            checks.append((f"address:{address}", self.per_address))
        if conversation and self.per_conversation:
            checks.append((f"conversation:{conversation}", self.per_conversation))
        return await self.backend.hit(checks) if checks else ALLOWED

    async def first_notice(self, conversation: str) -> bool:
        """True once per window for a conversation: whether to tell the parent it is going too fast."""
        window = max((r.window for r in (self.per_conversation, self.per_platform, self.per_address) if r), default=60.0)
        return (await self.backend.hit([(f"notice:{conversation}", Rule(1, window))])).allowed


def limiter_from_settings(settings: Settings) -> RateLimiter:
    """The limiter the settings describe: Redis-backed when a Redis URL is configured, else in memory."""
    backend: Backend = RedisBackend(settings.rate_limit_redis_url) if settings.rate_limit_redis_url else MemoryBackend()
    return RateLimiter(
        backend,
        per_conversation=Rule.parse(settings.rate_limit_per_conversation, "RATE_LIMIT_PER_CONVERSATION"),
        per_address=Rule.parse(settings.rate_limit_per_address, "RATE_LIMIT_PER_ADDRESS"),
        per_platform=Rule.parse(settings.rate_limit_per_platform, "RATE_LIMIT_PER_PLATFORM"),
        exempt=networks(settings.rate_limit_exempt),
    )


@lru_cache(maxsize=1)
def get_rate_limiter() -> RateLimiter:
    """The limiter shared by every channel of this process (made on first use)."""
    return limiter_from_settings(get_settings())
