"""The request-settle-claim round trip on the reference model (levtoken.model), as tests/conftest.py's
`settle`, `deposit` and `redeem` fixtures do it on chain."""

from __future__ import annotations

from levtoken.model import LeveragedToken, Model, Settlement


def model_settle(model: Model, *tokens: LeveragedToken, answer: int | None = None,
                 keeper: str = "keeper") -> list[Settlement]:
    """Moves the clock one second, publishes a round at `answer` (the first feed's latest answer when None)
    so every waiting request qualifies, and settles each token as `keeper`."""
    model.advance(1)
    feed = next(iter(model.feeds.values()))
    model.set_answer(feed.answer if answer is None else answer)
    return [token.settle(keeper) for token in tokens]


def model_deposit(model: Model, token: LeveragedToken, who: str, assets: int, receiver: str | None = None) -> int:
    """Requests a deposit of `assets` of `who`'s collateral, settles it at a newer round and claims the
    shares for `receiver` (`who` when None); returns the shares."""
    token.request_deposit(who, assets, who, who)
    model_settle(model, token)
    return token.deposit(who, assets, receiver or who, who)


def model_redeem(model: Model, token: LeveragedToken, who: str, shares: int, receiver: str | None = None) -> int:
    """Requests a redemption of `shares` of `who`, settles it at a newer round and claims the assets for
    `receiver` (`who` when None); returns the assets."""
    token.request_redeem(who, shares, who, who)
    model_settle(model, token)
    return token.redeem(who, shares, receiver or who, who)
