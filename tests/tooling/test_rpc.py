"""levtoken.rpc against a real anvil node: reads aggregated through Multicall3 (supplied as a state override,
nothing deployed) give what the same reads give one by one, at the block each names, with reverts decoded by
name, and a node that refuses the aggregated call is read one by one instead; results are decoded as eth-abi
decodes them."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from levtoken.keeper.reverts import describe_revert_data
from levtoken.rpc import MULTICALL3, RPC, Function, RPCError
from levtoken.units import to_feed

# ABI types with a strategy for their values, small enough that many examples run in a second (strings from a
# fixed alphabet of 1- to 4-byte UTF-8 characters: any text would have hypothesis build its table of every
# character first, over a second on a clean checkout).
LEAVES = {
    "uint256": st.integers(0, 2**256 - 1), "uint8": st.integers(0, 255), "int256": st.integers(-2**255, 2**255 - 1),
    "int24": st.integers(-2**23, 2**23 - 1), "bool": st.booleans(),
    "address": st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex()),
    "bytes4": st.binary(min_size=4, max_size=4), "bytes32": st.binary(min_size=32, max_size=32),
    "bytes": st.binary(max_size=40), "string": st.text(alphabet="aZ0 é€𝄞", max_size=8),
    "uint256[]": st.lists(st.integers(0, 2**256 - 1), max_size=3),
    "int24[2]": st.lists(st.integers(-2**23, 2**23 - 1), min_size=2, max_size=2),
}
TYPED = st.recursive(  # (type, strategy of its values), structs of them nested
    st.sampled_from(sorted(LEAVES.items())),
    lambda inner: st.lists(inner, min_size=1, max_size=3).map(
        lambda parts: ("(" + ",".join(kind for kind, _ in parts) + ")", st.tuples(*(values for _, values in parts)))),
    max_leaves=6)


@pytest.fixture
def aggregating(chain):
    """The client the tooling uses: reads of one block go through Multicall3."""
    return RPC.of(chain.provider)


@pytest.fixture
def plain(chain):
    """A client without Multicall3: each read is its own eth_call in a batch."""
    return RPC(chain.provider.http_uri)


@pytest.fixture
def rounds(feed, set_price, chain):
    """The feed with rounds at 31,000 and 32,000 after the fixture's first; (feed, block of each new round)."""
    blocks = [set_price(price).block_number for price in (31_000, 32_000)]
    return feed, blocks


def test_call_many__aggregated__one_eth_call_per_block_with_the_values_of_each_read(aggregating, plain, rounds):
    feed, (first, second) = rounds
    view = aggregating.contract(feed)
    calls = [view.call("latestRoundData", block=first), view.call("decimals"), view.call("latestRoundData"),
             view.call("getRoundData", 2, block=second)]
    sent = []
    post = aggregating.answers
    aggregating.answers = lambda requests: sent.extend(requests) or post(requests)

    values = aggregating.call_many(calls)

    assert [(method, params[1]) for method, params in sent] == [  # one call per block the reads name
        ("eth_call", hex(first)), ("eth_call", "latest"), ("eth_call", hex(second))]
    assert all(params[0]["to"] == MULTICALL3 for _, params in sent)
    assert values == plain.call_many(calls)
    assert values[0][1] == to_feed(31_000) and values[2][1] == to_feed(32_000) and values[1] == 8
    assert values[0] == feed.latestRoundData(block_identifier=first)


def test_call_many__a_read_reverts__error_with_its_revert_data_decoded_by_name(aggregating, rounds):
    feed, _ = rounds
    view = aggregating.contract(feed)

    with pytest.raises(RPCError) as raised:
        aggregating.call_many([view.call("decimals"), view.call("getRoundData", 99)])

    assert describe_revert_data(raised.value.data) == "NoDataPresent(roundId=99)"


def test_call_many_or_none__revert_and_no_contract__none_in_their_place(aggregating, rounds, usd):
    feed, (first, _) = rounds
    view = aggregating.contract(feed)
    before = aggregating.contract(usd).call("totalSupply", block=0)  # the genesis block: no contract yet

    values = aggregating.call_many_or_none([view.call("getRoundData", 99), before, view.call("latestRound", block=first)])

    assert values == [None, None, 2]


def test_call_many__node_refuses_the_aggregated_call__read_one_by_one_from_then_on(chain, rounds):
    feed, _ = rounds
    broken = RPC.of(chain.provider)
    broken._override[MULTICALL3]["code"] = "0xfe"  # code that fails at once, as a node refusing the override does
    view = broken.contract(feed)

    values = broken.requests_and_calls([("eth_chainId", [])], [view.call("latestRound"), view.call("decimals")])

    assert values == ([hex(chain.chain_id)], [3, 8])
    assert broken.multicall is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reads=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2)), min_size=1, max_size=12))
def test_call_many_or_none__any_reads_at_any_blocks__aggregated_equals_one_by_one(aggregating, plain, rounds, reads):
    feed, (first, second) = rounds
    view = aggregating.contract(feed)
    blocks = (first, second, "latest")
    calls = [view.call("getRoundData", round_id, block=blocks[block]) for round_id, block in reads]

    assert aggregating.call_many_or_none(calls) == plain.call_many_or_none(calls)


@given(data=st.data(), typed=st.lists(TYPED, min_size=1, max_size=4))
def test_result__any_output_types__decoded_as_eth_abi_decodes_them(data, typed):
    """Static outputs are read word by word, dynamic ones by eth-abi: the values are eth-abi's either way."""
    outputs = [kind for kind, _ in typed]
    values = data.draw(st.tuples(*(strategy for _, strategy in typed)))
    function = Function("f", b"\0" * 4, (), tuple(outputs))
    expected = decode(outputs, encode(outputs, values))
    expected = tuple(Web3.to_checksum_address(v) if k == "address" else v for k, v in zip(outputs, expected))

    result = function.result("0x" + encode(outputs, values).hex())

    assert result == (expected[0] if len(outputs) == 1 else expected)
