"""levtoken.keeper.Backoff: the one back-off policy (the keeper's node loss, the runner's polling and the
supervisor's restarts all use it)."""

from __future__ import annotations

from levtoken.keeper import Backoff


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_failed__doubles_from_initial__capped_at_maximum():
    backoff = Backoff(initial=0.5, maximum=3.0)
    assert [backoff.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_waiting__until_the_delay_has_run_out():
    clock = Clock()
    backoff = Backoff(initial=2.0, maximum=60.0, clock=clock)
    assert not backoff.waiting
    backoff.failed()
    assert backoff.waiting
    clock.now += 1.9
    assert backoff.waiting
    clock.now += 0.2
    assert not backoff.waiting


def test_reset__starts_over_and_says_whether_it_was_backing_off():
    clock = Clock()
    backoff = Backoff(initial=1.0, maximum=60.0, clock=clock)
    assert backoff.reset() is False
    backoff.failed()
    backoff.failed()
    assert backoff.reset() is True
    assert not backoff.waiting and backoff.delay == 0
    assert backoff.failed() == 1.0
