"""SlidingWindowLimiter (PROTOCOL.md section 4, check 1)."""

from __future__ import annotations

import pytest

from m2m_session.ratelimit import SlidingWindowLimiter


def test_limit_per_key() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=60.0)
    assert [limiter.hit("10.0.0.1", 0.0) for _ in range(3)] == [True, True, True]
    assert limiter.hit("10.0.0.1", 0.1) is False
    assert limiter.hit("10.0.0.1", 30.0) is False


def test_default_protocol_limit() -> None:
    limiter = SlidingWindowLimiter(limit=100)
    assert limiter.window == 60.0
    assert all(limiter.hit("peer", i * 0.5) for i in range(100))
    assert limiter.hit("peer", 50.0) is False


def test_separate_keys() -> None:
    limiter = SlidingWindowLimiter(limit=2, window=10.0)
    assert limiter.hit("a", 0.0)
    assert limiter.hit("a", 0.0)
    assert not limiter.hit("a", 1.0)
    assert limiter.hit("b", 1.0)
    assert limiter.hit("b", 1.0)
    assert not limiter.hit("b", 1.0)
    assert len(limiter) == 2


def test_window_slides() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=60.0)
    assert limiter.hit("k", 0.0)
    assert limiter.hit("k", 10.0)
    assert limiter.hit("k", 20.0)
    # At 60.0 the event at 0.0 has left the window (now - window, now]; one slot is free.
    assert limiter.hit("k", 60.0)
    # At 69.9 the events at 10, 20 and 60 are all inside: refused.
    assert not limiter.hit("k", 69.9)


def test_window_slides_one_event_at_a_time() -> None:
    limiter = SlidingWindowLimiter(limit=2, window=10.0)
    assert limiter.hit("k", 0.0)
    assert limiter.hit("k", 5.0)
    assert limiter.hit("k", 10.0)  # 0.0 expired
    assert limiter.hit("k", 15.0)  # 5.0 expired
    assert limiter.hit("k", 20.0)  # 10.0 expired


def test_full_window_later_allows_again() -> None:
    limiter = SlidingWindowLimiter(limit=2, window=10.0)
    assert limiter.hit("k", 0.0)
    assert limiter.hit("k", 0.0)
    assert limiter.hit("k", 1000.0)
    assert limiter.hit("k", 1000.0)
    assert not limiter.hit("k", 1000.0)


def test_refused_attempts_count() -> None:
    """A peer that keeps knocking stays limited: refused attempts enter the window too."""
    limiter = SlidingWindowLimiter(limit=2, window=10.0)
    assert limiter.hit("k", 0.0)
    assert limiter.hit("k", 0.0)
    assert not limiter.hit("k", 5.0)
    assert limiter.hit("k", 10.0)  # both 0.0 events left the window; 5.0 remains
    assert not limiter.hit("k", 12.0)  # 5.0 and 10.0 inside
    # Only 10.0 was allowed since 5.0 expired, but the refused 12.0 counts as well.
    assert not limiter.hit("k", 15.0)
    assert limiter.hit("k", 22.0)  # 10.0 and 12.0 have left; only 15.0 remains


def test_sweep_removes_quiet_keys() -> None:
    limiter = SlidingWindowLimiter(limit=5, window=60.0)
    for i in range(50):
        limiter.hit(f"peer-{i}", 0.0)
    assert len(limiter) == 50
    limiter.hit("late", 61.0)
    assert len(limiter) == 1


def test_sweep_keeps_active_keys() -> None:
    limiter = SlidingWindowLimiter(limit=5, window=60.0)
    limiter.hit("quiet", 0.0)
    limiter.hit("active", 50.0)
    limiter.hit("new", 70.0)
    assert len(limiter) == 2  # "quiet" (last event at 0) is gone, "active" stays
    # "active" still has its event at 50 inside the window.
    for _ in range(4):
        assert limiter.hit("active", 71.0)
    assert not limiter.hit("active", 71.0)


def test_memory_bounded_per_key() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=60.0)
    for i in range(1000):
        limiter.hit("k", i * 0.001)
    events = limiter._events["k"]
    assert len(events) == 3


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (-1, 60.0), (1, 0.0), (1, -5.0)])
def test_invalid_configuration(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        SlidingWindowLimiter(limit, window)
