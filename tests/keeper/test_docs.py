"""docs/keeper.md's commands are the ones the supervision code runs (the Redis and CLI tests run those)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from levtoken.keeper import keeper_env, silverback_command

DOC = Path(__file__).resolve().parents[2] / "docs" / "keeper.md"


def shell_lines() -> list[str]:
    """Every command line of the doc's bash blocks, continuation lines joined, comments dropped."""
    lines = []
    for block in DOC.read_text().split("```bash\n")[1:]:
        text = block.split("```", 1)[0].replace("\\\n", " ")
        lines += [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return lines


def as_written(argv: list[str]) -> str:
    """A silverback argv as the doc writes it: the executable by name."""
    return " ".join([Path(argv[0]).name, *argv[1:]])


def test_keeper_doc__silverback_commands__the_ones_supervision_runs():
    lines = shell_lines()
    network, account = "ethereum:local:node", "test:1"
    run = as_written(silverback_command("run", network, account))
    worker = as_written(silverback_command("worker", network, account, workers=2))
    assert f"LEVTOKEN_RECORD=deployments/local.json {run}" in lines
    assert run in lines and f"{worker} &" in lines
    assert "levtoken keeper --record deployments/local.json --network ethereum:local:node --account test:1" in lines


def test_keeper_doc__redis_environment__the_one_keeper_env_returns():
    exports = {}
    for line in shell_lines():
        if line.startswith("export "):
            name, value = line[len("export "):].split("=", 1)
            exports[name] = shlex.split(value)[0]
    env = keeper_env("deployments/local.json", "redis://127.0.0.1:6379/0", base={})
    assert Path(env.pop("LEVTOKEN_RECORD")) == Path("deployments/local.json").resolve()
    assert exports.pop("LEVTOKEN_RECORD") == "deployments/local.json"
    assert {k: (json.loads(v) if v.startswith("{") else v) for k, v in exports.items()} == {
        k: (json.loads(v) if v.startswith("{") else v) for k, v in env.items()
    }
