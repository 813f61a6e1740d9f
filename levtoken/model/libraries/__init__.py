"""The contracts' pure libraries (contracts/libraries/), one module each, plus the OpenZeppelin and
Solidity arithmetic they build on."""
