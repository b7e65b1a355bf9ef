"""Sign-in rate limiting: failed logins counted per user name and per client address.

`max_failures` failures of one key within `window_s` lock that key for `lockout_s`;
each further lockout of the same key doubles it (up to `max_lockout_s`), until the key
has had no failure for `forget_after_s`. While locked, a login is refused with 429 and
Retry-After before the password is even checked, so a locked key costs no argon2 run.

State lives in memory (one commander process; a restart forgets it) and is bounded:
at most `max_keys` keys are tracked, the least recently touched one forgotten first,
so a flood of made-up user names or addresses cannot grow it without end.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Policy:
    max_failures: int = 5
    window_s: float = 300.0
    lockout_s: float = 60.0
    max_lockout_s: float = 3600.0
    forget_after_s: float = 3600.0


USER_POLICY = Policy()
# An address may hold several people (an office behind one NAT): more room before it is
# locked, as long a lockout once it is.
IP_POLICY = Policy(max_failures=20)
MAX_KEYS = 10_000


@dataclass(slots=True)
class _Entry:
    failures: deque[float] = field(default_factory=deque)
    strikes: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


@dataclass(frozen=True, slots=True)
class Lockout:
    """A key that was locked by the failure just recorded."""

    key: str
    seconds: int
    strikes: int


class Limiter:
    """Failures per key under one policy; thread-safe (login handlers run in a pool)."""

    def __init__(
        self,
        policy: Policy,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.max_keys = max_keys
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.locked_until <= now:
                return 0
            return max(1, math.ceil(entry.locked_until - now))

    def failure(self, key: str) -> Lockout | None:
        """Count a failure of `key`; the lockout it caused, if it caused one."""
        now = self._clock()
        p = self.policy
        with self._lock:
            entry = self._entries.pop(key, None) or _Entry()
            self._entries[key] = entry  # now the most recently touched
            while len(self._entries) > self.max_keys:
                self._entries.popitem(last=False)
            if entry.last_failure and now - entry.last_failure > p.forget_after_s:
                entry.strikes = 0
            entry.last_failure = now
            while entry.failures and entry.failures[0] <= now - p.window_s:
                entry.failures.popleft()
            entry.failures.append(now)
            if len(entry.failures) < p.max_failures:
                return None
            seconds = min(p.lockout_s * 2**entry.strikes, p.max_lockout_s)
            entry.strikes += 1
            entry.failures.clear()
            entry.locked_until = now + seconds
            return Lockout(key, math.ceil(seconds), entry.strikes)

    def success(self, key: str) -> None:
        """A successful sign-in clears the key's failures and strikes."""
        with self._lock:
            self._entries.pop(key, None)


class LoginLimiter:
    """The two limiters a sign-in passes: its user name and its client address."""

    def __init__(
        self,
        user_policy: Policy = USER_POLICY,
        ip_policy: Policy = IP_POLICY,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = Limiter(user_policy, max_keys, clock)
        self.ips = Limiter(ip_policy, max_keys, clock)

    @staticmethod
    def _user(username: str) -> str:
        return "user:" + username.strip().casefold()

    @staticmethod
    def _ip(ip: str) -> str:
        return "ip:" + ip

    def retry_after(self, username: str, ip: str) -> int:
        """Seconds until this sign-in may be tried; 0 when it may be now."""
        return max(self.users.retry_after(self._user(username)), self.ips.retry_after(self._ip(ip)))

    def failure(self, username: str, ip: str) -> list[Lockout]:
        """Count a failed sign-in; the lockouts (user, address) it caused."""
        found = [self.users.failure(self._user(username)), self.ips.failure(self._ip(ip))]
        return [lock for lock in found if lock is not None]

    def success(self, username: str, ip: str) -> None:
        """Clear the user name's count; the address keeps its count, so one good password
        does not wipe out a spray of guesses against other names from the same place."""
        self.users.success(self._user(username))
