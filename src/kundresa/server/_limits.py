"""The collector's abuse limits: a token bucket per write key and the refusal counters.

Every write key has its own bucket of ``burst`` calls, refilled at ``rate`` calls a second.
A request is admitted while its key's bucket holds any tokens; its calls are then taken from
the bucket (it may go into debt by one request's calls). A key in debt is answered 429 with
``Retry-After`` (the seconds until its bucket is positive again) before its body is read, so
a flooding key costs little and, having its own bucket, never spends another key's share.

>>> b = KeyBuckets(rate=10, burst=20, clock=lambda: 0.0)
>>> b.take("site", 25)  # admitted (the bucket had tokens), now 5 calls in debt
0.0
>>> b.wait("site")  # seconds until it may send again
0.5
>>> b.wait("other")  # another key is not affected
0.0
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

__all__ = ["CollectorCounters", "KeyBuckets"]


class KeyBuckets:
    """Token buckets per write key (``rate`` calls/s, ``burst`` calls); ``rate <= 0``:
    unlimited.

    >>> KeyBuckets(rate=0, burst=0).take("k", 10**9)
    0.0
    """

    def __init__(
        self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = float(rate)
        self.burst = float(max(burst, 1))
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._tokens.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may send again (0: now).

        >>> KeyBuckets(rate=1, burst=1).wait("new")
        0.0
        """
        if self.rate <= 0:
            return 0.0
        with self._lock:
            level = self._level(key, self._clock())
        return 0.0 if level > 0 else max(-level / self.rate, 0.001)

    def take(self, key: str, calls: int) -> float:
        """Take ``calls`` from ``key``'s bucket: 0 when admitted, else the seconds to wait.

        >>> b = KeyBuckets(rate=1, burst=2, clock=lambda: 0.0)
        >>> b.take("k", 3), b.take("k", 1)
        (0.0, 1.0)
        """
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            level = self._level(key, now)
            if level <= 0:
                self._tokens[key] = (level, now)
                return max(-level / self.rate, 0.001)
            self._tokens[key] = (level - calls, now)
            if len(self._tokens) > 100_000:  # a full bucket is as good as none: forget it
                full = [k for k in self._tokens if self._level(k, now) >= self.burst]
                for k in full:
                    del self._tokens[k]
        return 0.0


class CollectorCounters:
    """What the collector refused since the server started, by reason: requests and calls
    (``/api/v1/collector`` -> ``refused``). Calls quarantined by the collector itself (the
    request was answered 200) are counted in ``quarantined_calls``; a 429 before the body
    was read counts the request only (its calls are the client's to retry).

    >>> c = CollectorCounters()
    >>> c.refuse("too_many_calls", 150_000)
    >>> c.to_dict()["calls"]
    {'too_many_calls': 150000}
    """

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.quarantined_calls: Counter[str] = Counter()

    def refuse(self, reason: str, calls: int | None = None) -> None:
        """Count one refused request (and its calls, when they were read)."""
        self.requests[reason] += 1
        if calls:
            self.calls[reason] += calls

    def quarantine(self, reasons: Counter[str]) -> None:
        """Count calls the collector quarantined inside an accepted request."""
        self.quarantined_calls.update(reasons)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "requests": dict(sorted(self.requests.items())),
            "calls": dict(sorted(self.calls.items())),
            "quarantined_calls": dict(sorted(self.quarantined_calls.items())),
        }
