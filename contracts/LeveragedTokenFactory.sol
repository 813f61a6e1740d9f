// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ILeveragedTokenFactory} from "./interfaces/ILeveragedTokenFactory.sol";
import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {ITokenVenue} from "./interfaces/ITokenVenue.sol";
import {UnknownMarket, LeverageOutOfRange} from "./interfaces/Errors.sol";

/// @title LeveragedTokenFactory
/// @notice See ILeveragedTokenFactory.
contract LeveragedTokenFactory is ILeveragedTokenFactory, Ownable2Step {
    /// @inheritdoc ILeveragedTokenFactory
    ITokenVenue public immutable venue;
    /// @inheritdoc ILeveragedTokenFactory
    address public immutable implementation;

    /// @inheritdoc ILeveragedTokenFactory
    mapping(uint256 => mapping(int256 => address)) public tokenFor;
    /// @inheritdoc ILeveragedTokenFactory
    address[] public tokens;

    /// @param venue_ The venue tokens trade on.
    /// @param implementation_ The LeveragedToken implementation every token is a clone of.
    /// @param owner_ Creates tokens and becomes their admin.
    constructor(ITokenVenue venue_, address implementation_, address owner_) Ownable(owner_) {
        venue = venue_;
        implementation = implementation_;
    }

    /// @inheritdoc ILeveragedTokenFactory
    function createToken(TokenSpec calldata spec) external onlyOwner returns (address token) {
        address existing = tokenFor[spec.marketId][spec.targetLeverage];
        if (existing != address(0)) revert TokenExists(existing);
        (string memory name, string memory symbol) = tokenName(spec.marketId, spec.targetLeverage);

        token = Clones.cloneDeterministicWithImmutableArgs(implementation, _args(spec), _salt(spec));
        tokenFor[spec.marketId][spec.targetLeverage] = token;
        tokens.push(token);
        emit TokenCreated(token, spec.marketId, spec.targetLeverage, name, symbol);
        ILeveragedToken(token).initialize(spec.params, name, symbol, owner(), spec.keeper, spec.guardian);
        venue.register(token, true); // the factory is the venue's registrar: its tokens trade in one step
    }

    /// @inheritdoc ILeveragedTokenFactory
    function predictAddress(TokenSpec calldata spec) external view returns (address) {
        return Clones.predictDeterministicAddressWithImmutableArgs(implementation, _args(spec), _salt(spec));
    }

    /// @inheritdoc ILeveragedTokenFactory
    function defaultParams(int256 targetLeverage, address feeRecipient)
        external
        view
        returns (ILeveragedToken.Params memory p)
    {
        uint256 target = targetLeverage >= 0 ? uint256(targetLeverage) : uint256(-targetLeverage);
        uint256 unit = 10 ** IERC20Metadata(address(venue.collateral())).decimals();
        uint256 leverageMax = target * 4 / 3;
        p.leverageMax = uint64(leverageMax);
        p.leverageMin = uint64(target * target / leverageMax);
        p.ripcordLeverage = uint64(target * 3 / 2);
        p.minDrift = uint64(target / 100);
        p.rebalanceInterval = 1 days;
        p.settlementWindow = 1 hours;
        p.mintFeeBps = 10;
        p.redeemFeeBps = 10;
        p.streamingFeePerDay = 1e14;
        p.feeRecipient = feeRecipient;
        p.maxTradeNotional = uint128(1_000_000 * unit);
        p.ripcordBounty = uint128(10 * unit);
        p.supplyCap = type(uint256).max;
    }

    /// @inheritdoc ILeveragedTokenFactory
    function tokenCount() external view returns (uint256) {
        return tokens.length;
    }

    /// @inheritdoc ILeveragedTokenFactory
    function tokenName(uint256 marketId, int256 targetLeverage)
        public
        view
        returns (string memory name, string memory symbol)
    {
        if (marketId == 0 || marketId > venue.marketCount()) revert UnknownMarket(marketId);
        uint256 target = targetLeverage >= 0 ? uint256(targetLeverage) : uint256(-targetLeverage);
        if (target == 0 || target % 1e17 != 0) revert LeverageOutOfRange(targetLeverage);
        string memory asset = venue.marketSymbol(marketId);
        string memory multiple = Strings.toString(target / 1e18);
        if (target % 1e18 != 0) multiple = string.concat(multiple, ".", Strings.toString((target % 1e18) / 1e17));
        bool long = targetLeverage > 0;
        name = string.concat(asset, " ", multiple, "x ", long ? "Long" : "Short");
        symbol = string.concat(asset, multiple, long ? "L" : "S");
    }

    function _salt(TokenSpec calldata spec) internal pure returns (bytes32) {
        return keccak256(abi.encode(spec.marketId, spec.targetLeverage));
    }

    /// @dev The clone's immutable arguments, packed in LeveragedTokenStorage's ARG_* layout: this factory, the
    /// venue, its collateral, the market, the signed target, the hard cap (`maxLeverage`, or twice |target|
    /// when zero) and the collateral's decimals below 18. SafeCast refuses what would not fit (the token's
    /// initializer bounds target and cap far below).
    function _args(TokenSpec calldata spec) internal view returns (bytes memory) {
        uint256 target = spec.targetLeverage >= 0 ? uint256(spec.targetLeverage) : uint256(-spec.targetLeverage);
        uint256 hardCap = spec.maxLeverage == 0 ? 2 * target : spec.maxLeverage;
        address collateral = address(venue.collateral());
        uint8 decimalsOffset = 18 - IERC20Metadata(collateral).decimals();
        return abi.encodePacked(
            address(this),
            venue,
            collateral,
            SafeCast.toUint64(spec.marketId),
            SafeCast.toInt128(spec.targetLeverage),
            SafeCast.toUint128(hardCap),
            decimalsOffset
        );
    }
}
