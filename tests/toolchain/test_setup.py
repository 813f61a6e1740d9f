"""toolchain/setup.sh: what is missing is named in one line, with what to do, and a non-zero exit."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_setup(env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"HOME": str(tmp_path), "PATH": env_overrides.pop("PATH", os.environ["PATH"]), **env_overrides}
    return subprocess.run(["bash", str(ROOT / "toolchain" / "setup.sh")], capture_output=True, text=True, env=env, timeout=120)


def test_setup__second_run__changes_nothing_and_is_quick(tmp_path):
    before = {p: p.stat().st_mtime_ns for p in [ROOT / ".venv" / ".levtoken-stamp", ROOT / "node_modules" / ".levtoken-stamp"]}
    out = subprocess.run(["bash", str(ROOT / "toolchain" / "setup.sh")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "installing" not in out.stdout and "creating" not in out.stdout
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_setup__no_node__one_line_saying_to_install_it(tmp_path):
    # A PATH with bash and python3.11 but no node.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sed", "awk", "cat", "sha256sum", "cut", "python3.11", "python3", "dirname"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    out = run_setup({"PATH": str(bin_dir)}, tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "setup: Node.js is required (for anvil, solc-js and the Solidity libraries) but 'node' was not found; install Node.js 18 or newer."
    ]


def test_setup__wrong_python__one_line_naming_it(tmp_path):
    out = run_setup({"PYTHON": "/bin/false"}, tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == ["setup: PYTHON=/bin/false is not a working Python 3.11; point it at python3.11."]
