// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

/// @notice Chainlink Automation's upkeep interface, declared here ABI-identical to
/// chainlink/contracts src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol.
interface AutomationCompatibleInterface {
    /// @notice Simulated off-chain by the Automation network to decide whether to call performUpkeep.
    /// @param checkData Data registered with the upkeep (unused by levtoken).
    /// @return upkeepNeeded Whether performUpkeep should be called now.
    /// @return performData Data to pass to performUpkeep.
    function checkUpkeep(bytes calldata checkData) external returns (bool upkeepNeeded, bytes memory performData);

    /// @notice Performs the upkeep; must re-validate on-chain, since anyone may call it.
    /// @param performData The data returned by checkUpkeep.
    function performUpkeep(bytes calldata performData) external;
}
