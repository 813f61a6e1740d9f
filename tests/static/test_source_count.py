"""ape lists at most 500 files under contracts/ (`get_all_files_in_directory(..., max_files=500)`), the copies of the
dependencies' folders it makes in contracts/.cache included, and past that it silently misses project sources (a
contract ape then cannot find: `project.TestStablecoin` fails). The dependencies in ape-config.yaml are chosen to stay
well under it."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APE_LISTING_LIMIT = 500
ROOM = 100  # files the project keeps free under the limit, for contracts to come


def listed_files(folder: Path) -> int:
    """The files ape lists in `folder` (names with a dot, links followed as ape's copy follows them)."""
    return sum(1 for _, _, names in os.walk(folder, followlinks=True) for name in names if "." in name)


def test_contracts_folder__with_the_dependencies_copies__well_under_apes_listing_limit():
    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text())
    counts = {"project": listed_files(ROOT / "contracts") - listed_files(ROOT / "contracts" / ".cache")}
    for dependency in config["dependencies"]:
        base = ROOT / dependency["local"] if "local" in dependency else ROOT / "node_modules" / dependency["npm"]
        folder = base / dependency.get("config_override", {}).get("contracts_folder", ".")
        counts[dependency["name"]] = listed_files(folder) + 1  # and the ape-config.yaml ape writes into the copy
    assert sum(counts.values()) <= APE_LISTING_LIMIT - ROOM, counts
