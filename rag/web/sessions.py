"""Staff sessions and the login throttle, held in the server's memory.

Sessions: a random token (secrets, 256 bits) per login, kept with its user, the
account's password stamp and an expiry; the browser holds only the token, in an
HttpOnly cookie (rag.web.login). A restart ends every session. Throttle: failed
logins counted per client address; after `failures` within `window` seconds
the address is locked for `lock_for` seconds, whatever name it tries. Both are
bounded, so a flood of logins or addresses cannot grow them without end.
Pure Python with an injectable clock, for tests.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

SESSION_SECONDS = 8 * 3600  # a working day; then log in again
MAX_SESSIONS = 1000
FAILURES, WINDOW, LOCK_FOR = 5, 15 * 60, 10 * 60  # 5 wrong passwords in 15 minutes: locked 10 minutes
MAX_ADDRESSES = 10_000


@dataclass(frozen=True)
class Session:
    user: str
    stamp: str  # rag.web.accounts.Account.stamp() at login
    expires: float


class Sessions:
    def __init__(self, lifetime: float = SESSION_SECONDS, clock=time.monotonic, most: int = MAX_SESSIONS):
        self.lifetime, self.clock, self.most = lifetime, clock, most
        self._open: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, user: str, stamp: str = "") -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._open[token] = Session(user, stamp, self.clock() + self.lifetime)
            while len(self._open) > self.most:
                self._open.popitem(last=False)  # the oldest login goes first
        return token

    def get(self, token: str | None) -> Session | None:
        if not token or not isinstance(token, str):
            return None
        with self._lock:
            s = self._open.get(token)
            if s is not None and s.expires <= self.clock():
                del self._open[token]
                return None
            return s

    def close(self, token: str | None) -> None:
        with self._lock:
            self._open.pop(token or "", None)

    def close_user(self, user: str) -> None:
        with self._lock:
            for t in [t for t, s in self._open.items() if s.user == user]:
                del self._open[t]


class Throttle:
    def __init__(self, failures: int = FAILURES, window: float = WINDOW, lock_for: float = LOCK_FOR,
                 clock=time.monotonic, most: int = MAX_ADDRESSES):
        self.failures, self.window, self.lock_for, self.clock, self.most = failures, window, lock_for, clock, most
        self._seen: OrderedDict[str, list[float]] = OrderedDict()  # address -> failure times
        self._locked: dict[str, float] = {}  # address -> locked until
        self._lock = threading.Lock()

    def wait(self, address: str) -> float:
        """Seconds until `address` may try again; 0: it may now."""
        with self._lock:
            until = self._locked.get(address, 0.0)
            left = until - self.clock()
            if left <= 0 and address in self._locked:
                del self._locked[address]
            return max(0.0, left)

    def failed(self, address: str) -> float:
        """Count a failure; return the lock it starts (seconds), or 0."""
        now = self.clock()
        with self._lock:
            times = [t for t in self._seen.pop(address, []) if now - t < self.window] + [now]
            self._seen[address] = times
            while len(self._seen) > self.most:
                self._seen.popitem(last=False)
            if len(times) >= self.failures:
                self._locked[address] = now + self.lock_for
                del self._seen[address]  # after the lock, a fresh count
                if len(self._locked) > self.most:
                    for a in [a for a, u in self._locked.items() if u <= now]:
                        del self._locked[a]
                return self.lock_for
            return 0.0

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._seen.pop(address, None)
