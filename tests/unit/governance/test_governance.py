"""Governance: OpenZeppelin's TimelockController in front of every privileged change, with a floor on its delay
that only a local development chain lifts; and the hand-over of the venue's ownership and a token's admin role."""

from __future__ import annotations

import json

import pytest
from ape import project
from web3.exceptions import ContractCustomError

from levtoken.governance import ZERO_ADDRESS, Change, cancel, deploy_governance, execute, hand_over, schedule
from levtoken.model.libraries.rebalance_logic import MAX_STREAMING_FEE_STEP
from levtoken.shapes import Params
from levtoken.units import DAY
from tests.utils.chain import advance
from tests.utils.cli import LocalNode
from tests.utils.reverts import error_selector

DELAY = 2 * DAY
SEPOLIA = 11_155_111


@pytest.fixture
def governed(chain, gov, fish, venue, create_token):
    """A 3x long and the venue handed over to a Governance with `gov` proposing and `fish` as guardian; the
    delay raised to two days by a change of its own (the floor is 0 on this local chain). Undone afterwards by a
    snapshot of its own: the hand-over moves session contracts' ownership, which no later test may inherit."""
    snapshot = chain.snapshot()
    token = create_token(3)
    governance = deploy_governance(gov, 0, [gov.address], guardians=[fish.address])
    hand_over(governance, gov, ownables=[venue], tokens=[token])
    raise_delay = Change(governance, "updateDelay", (DELAY,))
    schedule(governance, gov, raise_delay)
    execute(governance, gov, raise_delay)
    yield governance, token
    chain.restore(snapshot)


def _fee_raise(token, per_day=10**14 + MAX_STREAMING_FEE_STEP):
    params = Params.from_abi(token.params())
    params.streaming_fee_per_day = per_day
    return Change(token, "setParams", (params.to_tuple(),))


def test_delay_floor__none_on_a_local_chain__two_days_elsewhere(gov, tmp_path):
    """On this local chain any delay goes; on a chain with Sepolia's id (an anvil of its own) a deployment asking
    for less than two days reverts DelayBelowFloor, and every change waits at least MIN_DELAY."""
    governance = deploy_governance(gov, 0, [gov.address])
    assert (governance.delayFloor(), governance.getMinDelay()) == (0, 0)
    abi = json.loads(project.Governance.contract_type.model_dump_json(by_alias=True))["abi"]
    bytecode = project.Governance.contract_type.deployment_bytecode.bytecode
    with LocalNode(tmp_path, anvil_args=("--chain-id", str(SEPOLIA))) as node:
        w3, deployer = node.w3, node.w3.eth.accounts[0]
        factory = w3.eth.contract(abi=abi, bytecode=bytecode)
        with pytest.raises(ContractCustomError) as info:
            factory.constructor(DELAY - 1, [deployer], [ZERO_ADDRESS], []).transact({"from": deployer})
        assert str(info.value.data).startswith(error_selector(governance.DelayBelowFloor))
        tx = factory.constructor(DELAY, [deployer], [ZERO_ADDRESS], []).transact({"from": deployer})
        deployed = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(tx).contractAddress, abi=abi)
        assert deployed.functions.delayFloor().call() == deployed.functions.getMinDelay().call() == DELAY


def test_change__lands_only_after_the_delay__executed_by_anyone(governed, gov, stranger, chain, feed, reverts):
    governance, token = governed
    change = _fee_raise(token)
    with reverts(governance.TimelockInsufficientDelay, delay=DELAY - 1, minDelay=DELAY):
        schedule(governance, gov, change, DELAY - 1)
    schedule(governance, gov, change)
    with reverts(governance.TimelockUnexpectedOperationState):
        execute(governance, stranger, change)
    advance(chain, DELAY)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    execute(governance, stranger, change)
    assert token.params().streamingFeePerDay == 10**14 + MAX_STREAMING_FEE_STEP


def test_cancel__proposer_or_guardian__the_change_never_lands(governed, gov, fish, stranger, chain, reverts):
    governance, token = governed
    change = _fee_raise(token)
    schedule(governance, gov, change)
    with reverts(governance.AccessControlUnauthorizedAccount, account=stranger.address):
        cancel(governance, stranger, change)
    cancel(governance, fish, change)  # the guardian
    advance(chain, DELAY)
    with reverts(governance.TimelockUnexpectedOperationState):
        execute(governance, gov, change)
    assert token.params().streamingFeePerDay != 10**14 + MAX_STREAMING_FEE_STEP


def test_hand_over__old_owner_has_no_direct_power__guardian_still_pauses_at_once(
    governed, gov, stranger, venue, reverts
):
    governance, token = governed
    params = Params.from_abi(token.params())
    with reverts(token.AccessControlUnauthorizedAccount, account=gov.address):
        token.setParams(params.to_tuple(), sender=gov)
    with reverts(venue.OwnableUnauthorizedAccount, account=gov.address):
        venue.setMarketConfig(1, venue.marketConfig(1), sender=gov)
    with reverts(governance.AccessControlUnauthorizedAccount, account=stranger.address):
        schedule(governance, stranger, _fee_raise(token))
    assert venue.owner() == governance.address
    # A risk-reducing action needs no delay: the token's guardian pauses deposits at once.
    token.pause(sender=gov)
    assert token.paused()
