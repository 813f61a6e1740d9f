// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Multicall3 (aggregate3)
/// @notice Several calls in one: the `aggregate3` function of the canonical Multicall3, with the same selector
/// and encoding (not payable here: it takes no ether), so a client that reads through it works against the
/// canonical deployment on public chains and against this code supplied as an `eth_call` state override on a
/// node without it (nothing is deployed). The tooling uses it to read a whole replay step's state in one EVM
/// call instead of one call per value.
contract Multicall3 {
    /// @notice One call: its target, whether it may fail, and its calldata.
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    /// @notice One call's outcome: whether it succeeded and what it returned (its revert data if not).
    struct Result {
        bool success;
        bytes returnData;
    }

    /// @dev A call that was not allowed to fail reverted (its index in the batch and its revert data).
    error CallFailed(uint256 index, bytes returnData);

    /// @notice Runs `calls` in order and returns each outcome; reverts with CallFailed when a call with
    /// `allowFailure` false fails.
    /// @param calls The calls (target, allowFailure, callData).
    /// @return results Each call's success flag and return data, in the order of `calls`.
    function aggregate3(Call3[] calldata calls) external returns (Result[] memory results) {
        results = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            Call3 calldata call = calls[i];
            (bool success, bytes memory returnData) = call.target.call(call.callData);
            if (!success && !call.allowFailure) revert CallFailed(i, returnData);
            results[i] = Result(success, returnData);
        }
    }
}
