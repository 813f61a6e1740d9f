// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title Governance
/// @notice The one owner of the venue, the token factory and DelayedOrders, and the admin of every token
/// (DESIGN.md 11): every privileged change is scheduled here and lands only after the delay, so every holder
/// and LP sees it coming and can leave first. OpenZeppelin's TimelockController with a floor on its delay:
/// proposers schedule (and may cancel), guardians may cancel, executors (anyone when the zero address is one)
/// execute a ready change. Risk-reducing actions that need no delay (a token's pause) stay with the roles
/// that hold them directly.
/// @dev The delay can never fall below `delayFloor()`: two days, longer than the longest settlement window
/// (one day) plus a day for a holder to see the change and ask to exit. Only on a local development chain
/// (chain id 31337 or 1337) is there no floor, so a local deployment can work without waiting.
contract Governance is TimelockController {
    /// @notice Shortest delay on any chain but a local development one.
    uint256 public constant MIN_DELAY = 2 days;

    /// @dev The delay asked for at deployment is below the floor.
    error DelayBelowFloor(uint256 delay, uint256 floor);

    /// @param minDelay Delay of every scheduled change, seconds (at least `delayFloor()`).
    /// @param proposers Accounts that schedule and cancel changes.
    /// @param executors Accounts that execute ready changes (the zero address: anyone).
    /// @param guardians Accounts that may only cancel a scheduled change.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address[] memory guardians)
        TimelockController(minDelay, proposers, executors, address(0))
    {
        if (minDelay < delayFloor()) revert DelayBelowFloor(minDelay, delayFloor());
        for (uint256 i = 0; i < guardians.length; ++i) {
            _grantRole(CANCELLER_ROLE, guardians[i]);
        }
    }

    /// @notice The shortest delay this chain allows: MIN_DELAY, or 0 on a local development chain.
    function delayFloor() public view returns (uint256) {
        return block.chainid == 31337 || block.chainid == 1337 ? 0 : MIN_DELAY;
    }

    /// @notice The delay every scheduled change waits: the configured one, never below the floor (a change of
    /// the delay itself goes through the delay too).
    function getMinDelay() public view override returns (uint256) {
        uint256 configured = super.getMinDelay();
        uint256 floor = delayFloor();
        return configured > floor ? configured : floor;
    }
}
