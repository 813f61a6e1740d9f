"""`python -m levtoken.bench [--model-only | --replay-only] [--out FILE]`."""

import argparse

from levtoken.bench import DEFAULT_OUT, __doc__ as DOC, main

parser = argparse.ArgumentParser(description=DOC.splitlines()[0])
parser.add_argument("--model-only", action="store_true", help="only the reference model's throughput (no chain)")
parser.add_argument("--replay-only", action="store_true", help="only the replay's throughput (its own node)")
parser.add_argument("--out", default=str(DEFAULT_OUT), help="the Markdown file to write")
arguments = parser.parse_args()
main(arguments.out, model_only=arguments.model_only, replay_only=arguments.replay_only)
