"""PriceFeed (contracts/PriceFeed.sol): a Chainlink AggregatorV3-compatible feed whose answers are
submitted by an updater. The model keeps the latest round only (consumers read only that)."""

from __future__ import annotations

from levtoken.model.errors import NonPositiveAnswer
from levtoken.model.journal import Journal, Journaled
from levtoken.units import FEED_DECIMALS

INT192_MAX = 2**191 - 1


class Feed(Journaled):
    """A price feed: `decimals`, and the latest round (`round_id`, `answer`, `updated_at`)."""

    def __init__(self, decimals: int = FEED_DECIMALS, journal: Journal | None = None) -> None:
        object.__setattr__(self, "_journal", journal)
        self.decimals = decimals
        self.scale = 10 ** (18 - decimals)  # an answer times this is an 18-decimal price
        self.round_id = 0
        self.answer = 0
        self.updated_at = 0
        self.reverts = False  # a broken feed: every read reverts (consumers that must not depend on it catch it)

    def __repr__(self) -> str:
        return (f"Feed(decimals={self.decimals}, round_id={self.round_id}, answer={self.answer}, "
                f"updated_at={self.updated_at})")

    def submit(self, answer: int, now: int) -> int:
        """Publishes a new answer as a new round, timestamped `now`; returns the round's id. The answer
        has `decimals` decimals and must be positive."""
        if answer <= 0 or answer > INT192_MAX:
            raise NonPositiveAnswer(answer)
        self.round_id += 1
        self.answer = answer
        self.updated_at = now
        return self.round_id

    def latest_round_data(self) -> tuple[int, int, int, int, int]:
        """(roundId, answer, startedAt, updatedAt, answeredInRound) of the latest round; zeros before the
        first answer, which consumers reject as an incomplete round."""
        return self.round_id, self.answer, self.updated_at, self.updated_at, self.round_id
