"""README.md's product-page commands, exactly as written, on the default network: `levtoken node` on 8545 as a
reader starts it, `levtoken deploy`, the keeper and `levtoken serve` in the background on their default ports;
the page and its token list answer with the chain's numbers."""

import json
import urllib.request

from tests.utils.cli import (DEFAULT_PORT, PROJECT_FOLDER, LocalNode, deployed_token, invoke, port_open, readme_commands,
                             running, wait_for)

pytestmark = PROJECT_FOLDER

SERVE_PORT = 8000  # `levtoken serve`'s default port, as the README's comment says


def test_readme__product_page__commands_as_written_serve_the_deployment(tmp_path):
    commands = readme_commands("The product page")
    assert commands == ["levtoken node &", "levtoken deploy", "levtoken keeper &", "levtoken feed push &", "levtoken serve"]
    assert not port_open(SERVE_PORT), f"something already listens on {SERVE_PORT}, `levtoken serve`'s port"
    record = tmp_path / "local.json"
    node = LocalNode(tmp_path, reader=True)
    try:
        deployed = invoke(node, record, commands[1])
        assert deployed.returncode == 0, deployed.stderr
        keeper_log, pusher_log, serve_log = tmp_path / "keeper.log", tmp_path / "pusher.log", tmp_path / "serve.log"
        with running(commands[2].removesuffix(" &"), node.env(record), keeper_log), \
                running(commands[3].removesuffix(" &"), node.env(record), pusher_log), \
                running(commands[4], node.env(record), serve_log):
            wait_for(lambda: port_open(SERVE_PORT), 60, f"levtoken serve did not listen: {serve_log.read_text()}")
            with urllib.request.urlopen(f"http://127.0.0.1:{SERVE_PORT}/") as page:
                assert page.status == 200 and "<html" in page.read().decode().lower()
            with urllib.request.urlopen(f"http://127.0.0.1:{SERVE_PORT}/api/tokens") as answer:
                listed = json.loads(answer.read())
            rows = {row["symbol"]: row for row in listed["tokens"]}
            read_at = listed["head"]["block"]  # the pusher moves the price: compare at the block the page read
            wait_for(lambda: "serving BTC3L, BTC3S, BTC1S" in keeper_log.read_text(), 60, "the keeper did not start")
            # The block settles a holder's request by itself: the pusher's next price qualifies it, the keeper
            # settles it, and a plain `levtoken mint` (which waits) returns with what it minted.
            minted = invoke(node, record, "levtoken mint BTC3L 100 --account test:2")
            assert minted.returncode == 0 and "minted " in minted.stdout, minted.stdout + minted.stderr
        assert "BTC / USD " in pusher_log.read_text() and "BTC3L settle" in keeper_log.read_text()
        assert "Traceback" not in serve_log.read_text() + keeper_log.read_text() + pusher_log.read_text()
        assert rows.keys() == {"BTC3L", "BTC3S", "BTC1S"}
        for symbol, row in rows.items():
            nav = deployed_token(node, record, symbol).functions.navPerToken().call(block_identifier=read_at)
            assert row["nav"] == f"${nav / 10**6:,.6f}"
            assert row["target"] == {"BTC3L": "3.0000x", "BTC3S": "-3.0000x", "BTC1S": "-1.0000x"}[symbol]
    finally:
        node.stop()
    wait_for(lambda: not port_open(DEFAULT_PORT) and not port_open(SERVE_PORT), 10, "a port is still taken")
