"""The solc that py-solc-x finds in .solcx (native, or the solc-js wrapper) behaves like native solc."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import solcx
import solcx.install
import solcx.wrapper
from ape.contracts import ContractContainer
from ethpm_types import ContractType

ROOT = Path(__file__).resolve().parents[2]
SOLC_VERSION = "0.8.28"
WRAPPER = ROOT / "toolchain" / "solc-js-wrapper.js"

GOOD = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
import {Base} from "./Base.sol";
contract Counter is Base {
    uint256 public count;
    function add(uint256 by) external returns (uint256) { count += by * unit(); return count; }
}
"""
BASE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
abstract contract Base { function unit() internal pure returns (uint256) { return 2; } }
"""
BAD = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
contract Broken { function f() external pure returns (uint256) { return missing; } }
"""


@pytest.fixture(scope="module")
def solc_binary() -> Path:
    """The executable py-solc-x resolves for our pinned version (the one ape-solidity uses)."""
    return solcx.install.get_executable(SOLC_VERSION)


def run(binary: Path, *args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=600)


def test_version__answers_like_native_solc__py_solc_x_parses_it(solc_binary):
    out = run(solc_binary, "--version")
    assert out.returncode == 0
    assert f"Version: {SOLC_VERSION}+commit." in out.stdout
    assert str(solcx.wrapper.get_solc_version(solc_binary)) == SOLC_VERSION


def test_standard_json__resolves_imports_from_base_path__bytecode_deploys_and_runs(solc_binary, tmp_path, accounts):
    (tmp_path / "Base.sol").write_text(BASE)
    (tmp_path / "Counter.sol").write_text(GOOD)
    request = {
        "language": "Solidity",
        "sources": {"Counter.sol": {"content": GOOD}},
        "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}}},
    }
    out = run(solc_binary, "--standard-json", "--base-path", str(tmp_path), stdin=json.dumps(request))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert not [e for e in result.get("errors", []) if e["severity"] == "error"]
    artefact = result["contracts"]["Counter.sol"]["Counter"]
    contract_type = ContractType(
        contractName="Counter",
        abi=artefact["abi"],
        deploymentBytecode={"bytecode": "0x" + artefact["evm"]["bytecode"]["object"]},
        runtimeBytecode={"bytecode": "0x" + artefact["evm"]["deployedBytecode"]["object"]},
    )
    counter = accounts[0].deploy(ContractContainer(contract_type))
    counter.add(21, sender=accounts[0])
    assert counter.count() == 42


def test_standard_json__compile_error__reported_in_json_with_exit_zero(solc_binary):
    request = {"language": "Solidity", "sources": {"Broken.sol": {"content": BAD}},
               "settings": {"outputSelection": {"*": {"*": ["abi"]}}}}
    out = run(solc_binary, "--standard-json", stdin=json.dumps(request))
    assert out.returncode == 0
    errors = [e for e in json.loads(out.stdout)["errors"] if e["severity"] == "error"]
    assert errors and errors[0]["type"] == "DeclarationError"
    assert "Undeclared identifier" in errors[0]["formattedMessage"]


def test_file_mode__compile_error__nonzero_exit_with_solc_message(solc_binary, tmp_path):
    (tmp_path / "Broken.sol").write_text(BAD)
    out = run(solc_binary, "--bin", "Broken.sol", cwd=tmp_path)
    assert out.returncode == 1
    assert "DeclarationError: Undeclared identifier." in out.stderr
    assert "Broken.sol:3:" in out.stderr


def test_combined_json__gives_abi_bin_and_ast_for_static_analysers(solc_binary, tmp_path):
    (tmp_path / "Base.sol").write_text(BASE)
    (tmp_path / "Counter.sol").write_text(GOOD)
    out = run(solc_binary, "--combined-json", "abi,bin,bin-runtime,ast,hashes", "Counter.sol", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    combined = json.loads(out.stdout)
    counter = combined["contracts"]["Counter.sol:Counter"]
    assert counter["bin"] and counter["bin-runtime"]
    assert "add(uint256)" in counter["hashes"]
    assert combined["sources"]["Counter.sol"]["AST"]["nodeType"] == "SourceUnit"
    assert set(combined["sourceList"]) == {"Counter.sol", "Base.sol"}


def test_wrapper__unknown_option__clear_error():
    env = dict(os.environ, LEVTOKEN_SOLCJS=str(ROOT / "node_modules" / "solc"))
    out = subprocess.run(["node", str(WRAPPER), "--frobnicate"], capture_output=True, text=True, env=env)
    assert out.returncode == 1
    assert "Unrecognised option: --frobnicate" in out.stderr
