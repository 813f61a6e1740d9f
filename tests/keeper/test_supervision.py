"""run_keeper: a deployment record that cannot serve ends the keeper with one line, without restarts."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

from levtoken.keeper import CONFIG_ERROR_EXIT, keeper_env, run_keeper, silverback_command

PROJECT = Path(__file__).resolve().parents[2]


def test_run_keeper__missing_record__config_error_exit_without_restart(own_node, tmp_path, caplog):
    caplog.set_level(logging.WARNING, "levtoken.keeper")
    started = time.monotonic()
    code = run_keeper(tmp_path / "none.json", "test:1", own_node.url)
    assert code == CONFIG_ERROR_EXIT
    assert time.monotonic() - started < 60
    assert not [r for r in caplog.records if "restarting" in r.getMessage()]


def test_keeper_bot__missing_record__one_error_line_no_traceback(own_node, tmp_path):
    out = subprocess.run(silverback_command("run", own_node.url, "test:1"), cwd=PROJECT, capture_output=True,
                         text=True, env=keeper_env(tmp_path / "none.json"), timeout=120)
    assert out.returncode == CONFIG_ERROR_EXIT, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "none.json not found; run `levtoken deploy` first" in errors[0], text
