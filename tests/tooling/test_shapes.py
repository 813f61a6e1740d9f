"""levtoken.shapes against the contracts: the event signatures the tooling filters logs by, and the
Action/Reason enums it decodes statuses and events with, cannot drift from what is compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eth_utils import keccak

from levtoken.shapes import EVENTS, Action, Params, Reason, Settlement, Status, event_topic

ROOT = Path(__file__).resolve().parents[2]
TOKEN_INTERFACE = ROOT / "contracts/interfaces/ILeveragedToken.sol"


def compiled_event_signatures(project) -> dict[str, set[str]]:
    """Every event of the token and the venue, by name: the signatures the compiled ABIs declare."""
    signatures: dict[str, set[str]] = {}
    for contract in (project.LeveragedToken, project.PerpVenue):
        for event in contract.contract_type.events:
            signatures.setdefault(event.name, set()).add(event.selector)
    return signatures


def solidity_enum(source: str, name: str) -> list[str]:
    """The member names of `enum <name> { ... }` in a Solidity source, in order (comments dropped)."""
    match = re.search(rf"\benum\s+{name}\s*\{{([^}}]*)\}}", source)
    assert match, f"enum {name} not declared"
    body = re.sub(r"//[^\n]*|/\*.*?\*/", "", match.group(1), flags=re.S)
    return [member.strip() for member in body.split(",") if member.strip()]


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_events__signature__matches_the_compiled_abi(project, name):
    assert compiled_event_signatures(project).get(name) == {EVENTS[name]}
    assert event_topic(name) == "0x" + keccak(text=EVENTS[name]).hex()


@pytest.mark.parametrize("enum", [Action, Reason], ids=lambda e: e.__name__)
def test_enums__members_and_order__match_the_solidity_declaration(enum):
    declared = solidity_enum(TOKEN_INTERFACE.read_text(), enum.__name__)
    assert [member.name for member in enum] == declared
    assert [member.value for member in enum] == list(range(len(declared)))


def test_enums__abi__carries_them_as_uint8_of_the_declared_enum(project):
    (status,) = [m for m in project.LeveragedToken.contract_type.view_methods if m.name == "rebalanceStatus"]
    components = {c.name: c for c in status.outputs[0].components}
    for field, enum in (("action", Action), ("reason", Reason)):
        assert components[field].type == "uint8"
        assert components[field].internal_type == f"enum ILeveragedToken.{enum.__name__}"
    rebalanced = EVENTS["Rebalanced"]
    assert rebalanced.startswith("Rebalanced(uint8,uint8,")  # action, reason


def _components(project, method: str) -> list[str]:
    """Field names of the struct the token's view `method` returns."""
    (abi,) = [m for m in project.LeveragedToken.contract_type.view_methods if m.name == method]
    return [c.name for c in abi.outputs[0].components]


@pytest.mark.parametrize("shape, method", [(Params, "params"), (Status, "rebalanceStatus")], ids=["Params", "Status"])
def test_structs__fields__match_the_compiled_abi_in_order(project, shape, method):
    assert list(shape.sol_names()) == _components(project, method)


def test_settlement__fields__match_the_settled_event_in_order(project):
    (settled,) = [e for e in project.LeveragedToken.contract_type.events if e.name == "Settled"]
    (struct,) = [i for i in settled.inputs if i.name == "settlement"]
    assert list(Settlement.sol_names()) == [c.name for c in struct.components]
    assert struct.internal_type == "struct ILeveragedToken.Settlement"
