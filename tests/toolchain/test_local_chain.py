"""ape compiles the project's contracts and runs them on the anvil node that ape-foundry started."""

from pathlib import Path


def test_provider__is_anvil_from_the_project(chain):
    provider = chain.provider
    assert provider.name == "foundry"
    version = provider.make_request("web3_clientVersion", [])
    assert version.startswith("anvil/")
    assert Path(provider.anvil_bin).resolve().is_relative_to(Path(__file__).resolve().parents[2])


def test_compiled_contract__deploys_and_transacts(project, accounts):
    owner, holder = accounts[0], accounts[1]
    usd = owner.deploy(project.TestStablecoin)
    receipt = usd.mint(holder, 1_000_000, sender=owner)
    assert not receipt.failed
    assert usd.balanceOf(holder) == 1_000_000
    assert usd.decimals() == 6
