"""OracleLib (contracts/libraries/OracleLib.sol): reads a Chainlink-compatible feed and validates it the
way every levtoken consumer must."""

from __future__ import annotations

from typing import TYPE_CHECKING

from levtoken.model.errors import IncompleteRound, InvalidPrice, StalePrice

if TYPE_CHECKING:
    from levtoken.model.price_feed import Feed


def read_wad(feed: "Feed", heartbeat: int, scale: int, now: int) -> int:
    """The latest price as an 18-decimal number, after checking it is positive, complete and fresh.

    `heartbeat` is the largest accepted age of the answer in seconds, `scale` 10 ** (18 - feed decimals)
    and `now` the block timestamp. The model's feed keeps only complete rounds (answeredInRound equals
    roundId), so a round is incomplete only before the first answer."""
    round_id, answer, _, updated_at, _ = feed.latest_round_data()
    if updated_at == 0:
        raise IncompleteRound(round_id)
    if answer <= 0:
        raise InvalidPrice(answer)
    if now > updated_at + heartbeat:
        raise StalePrice(updated_at, heartbeat)
    return answer * scale
