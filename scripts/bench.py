"""`ape run bench`: gas of each operation beside OpenZeppelin, written to benchmarks/results.md."""

from levtoken import bench


def main():
    bench.main(bench.DEFAULT_OUT)
