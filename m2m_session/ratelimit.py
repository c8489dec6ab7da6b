"""Per-address sliding-window rate limit for new sessions (PROTOCOL.md section 4, check 1).

Sans-I/O: the caller passes the time. Memory stays bounded by ``limit`` timestamps per address
seen in the last window; addresses that went quiet are swept out.
"""

from __future__ import annotations

from collections import deque

__all__ = ["SlidingWindowLimiter"]


class SlidingWindowLimiter:
    """Allows at most ``limit`` events per key in any ``window``-second span."""

    __slots__ = ("_events", "_next_sweep", "limit", "window")

    def __init__(self, limit: int, window: float = 60.0) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window <= 0:
            raise ValueError("window must be positive")
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._next_sweep = 0.0

    def hit(self, key: str, now: float) -> bool:
        """Record one event for ``key``; True when it is within the limit."""
        if now >= self._next_sweep:
            self._sweep(now)
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque(maxlen=self.limit)
        horizon = now - self.window
        while events and events[0] <= horizon:
            events.popleft()
        if len(events) >= self.limit:
            # Counted all the same: a peer that keeps knocking stays limited.
            events.append(now)
            return False
        events.append(now)
        return True

    def __len__(self) -> int:
        """Keys currently tracked."""
        return len(self._events)

    def _sweep(self, now: float) -> None:
        horizon = now - self.window
        for key in [k for k, events in self._events.items() if events[-1] <= horizon]:
            del self._events[key]
        self._next_sweep = now + self.window
