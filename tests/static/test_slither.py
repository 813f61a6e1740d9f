"""Static analysis: slither finds no high or medium issue in contracts/ that has not been reviewed.

slither runs with slither.config.json (the project's solc, OpenZeppelin remapping, node_modules, mocks
and benchmarks filtered out). Reviewed findings are listed with their reason in slither.triage.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLITHER = Path(sys.executable).parent / "slither"
TRIAGE = ROOT / "slither.triage.json"
SEVERE = {"High", "Medium"}


def where(finding: dict) -> str:
    """'Contract.function' of a finding's first element (a function, or the function holding a node or local)."""
    element = finding["elements"][0]
    while element.get("type") not in ("function", "contract"):
        parent = element.get("type_specific_fields", {}).get("parent")
        if parent is None:
            return element.get("name", "?")
        element = parent
    if element["type"] == "contract":
        return element["name"]
    contract = element["type_specific_fields"]["parent"]["name"]
    return f"{contract}.{element['name']}"


@pytest.fixture(scope="module")
def findings() -> list[dict]:
    """High and medium findings of one slither run on contracts/."""
    out = subprocess.run(
        [str(SLITHER), "contracts", "--config-file", "slither.config.json", "--json", "-"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"slither gave no JSON report (exit {out.returncode}):\n{out.stderr[-3000:]}")
    assert report["success"], f"slither failed: {report.get('error')}\n{out.stderr[-3000:]}"
    return [f for f in report["results"].get("detectors", []) if f["impact"] in SEVERE]


@pytest.fixture(scope="module")
def accepted() -> list[dict]:
    entries = json.loads(TRIAGE.read_text())["accepted"]
    assert all(e.get("reason", "").strip() for e in entries), "every accepted finding needs a reason"
    return entries


def test_slither__high_and_medium_findings__all_reviewed(findings, accepted):
    known = {(e["detector"], e["where"]) for e in accepted}
    unexplained = [f for f in findings if (f["check"], where(f)) not in known]
    report = "\n\n".join(f"[{f['impact']}] {f['check']} in {where(f)}:\n{f['description']}" for f in unexplained)
    assert not unexplained, f"fix these, or accept each in slither.triage.json with a reason:\n\n{report}"


def test_slither_triage__every_entry__still_matches_a_finding(findings, accepted):
    found = {(f["check"], where(f)) for f in findings}
    stale = [e for e in accepted if (e["detector"], e["where"]) not in found]
    assert not stale, f"slither.triage.json lists findings slither no longer reports; remove them: {stale}"
