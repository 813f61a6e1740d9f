"""Tooling fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.utils.cli import LocalNode


@pytest.fixture
def written(tmp_path) -> Callable[[str, str], Path]:
    """written(name, text) -> the path of a file `name` in the test's own folder, holding `text`."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """An anvil of the module's own (a reader's `levtoken node`)."""
    with LocalNode(tmp_path_factory.mktemp("node")) as local:
        yield local


@pytest.fixture(scope="module")
def deployed(node) -> Path:
    """The record of `levtoken deploy` on the module's node."""
    record = node.tmp / "deployed.json"
    out = node.run("levtoken deploy", record)
    assert out.returncode == 0, out.stderr
    return record
