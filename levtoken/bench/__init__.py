"""Benchmarks (`make bench`, which writes benchmarks/results.md): the gas table with the code sizes
(levtoken.bench.gas), the replay's throughput beside the raw ceiling of its node (levtoken.bench.replay) and
the reference model's throughput (levtoken.bench.model).

The model's throughput needs no chain: `python -m levtoken.bench --model-only` measures it alone and
rewrites only its section of benchmarks/results.md. `--replay-only` measures the replay's alone.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from levtoken.bench.gas import Measurement, gas_table, to_markdown, to_rich
from levtoken.bench.model import MODEL_SECTION, model_markdown, model_throughput, print_model
from levtoken.bench.replay import REPLAY_SECTION, replay_bench, replay_markdown

DEFAULT_OUT = Path("benchmarks/results.md")


def write_section(path: Path | str, title: str, body: str) -> None:
    """Replaces the `## title` section of the Markdown file at `path` by `body` (appended when absent),
    leaving the rest of the file as it is."""
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    heading = f"## {title}"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + ("\n\n" if text else "") + body
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + body + ("\n" + text[end + 1:] if end != -1 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=160)


def main(out_path: Path | str = DEFAULT_OUT, model_only: bool = False, replay_only: bool = False) -> list[Measurement]:
    """Measures the gas table, the model's throughput and the replay's (only the model's with `model_only`, only
    the replay's with `replay_only`), writes them to `out_path` (only the sections measured) and prints them."""
    console = _console()
    out_path = Path(out_path)
    rows: list[Measurement] = []
    if not (model_only or replay_only):  # the gas table heads the file: it is written whole, the sections after it
        rows = gas_table()
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(to_markdown(rows))
        console.print(to_rich(rows))
    if not model_only:
        body = replay_markdown(replay_bench())
        write_section(out_path, REPLAY_SECTION, body)
        console.print(body)
        if replay_only:
            return rows
    runs = model_throughput()
    write_section(out_path, MODEL_SECTION, model_markdown(runs))
    print_model(runs, console)
    console.print(f"written to {out_path}")
    return rows
