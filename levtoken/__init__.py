"""On-chain leveraged tokens: deployment, keeper, price replay, reference model and reports."""
