"""Tooling fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest


@pytest.fixture
def written(tmp_path) -> Callable[[str, str], Path]:
    """written(name, text) -> the path of a file `name` in the test's own folder, holding `text`."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
