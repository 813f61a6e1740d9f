// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ILeveragedToken} from "../interfaces/ILeveragedToken.sol";

/// @title RequestQueue
/// @notice One side's waiting requests (deposits or redemptions), grouped into epochs by oracle round so
/// that a settlement, a request and a claim each cost O(1) (DESIGN.md 7.4). An epoch holds the requests
/// made while the feed's latest round stayed the same. It *qualifies* at a round published strictly after
/// its last request (`updatedAt > lastRequest`): a round in the same block or second as a request never
/// prices it. Three live slots: `open` takes new requests; `held` is an epoch closed by a round that shares
/// its last request's second (it qualifies at the next round); `batch` is everything qualified and not yet
/// settled, which one settlement prices at one price.
/// @dev Every request, settlement and cancel first rolls the queue it touches to the latest round time `u`
/// (read raw: a stale feed only means nothing qualifies, and a feed that reverts reads as 0). Invariants:
/// `batch` qualifies at the latest round; every pending epoch is a live slot or resolves to one (an epoch the
/// `held` slot already holds absorbs the next one instead of being replaced, whatever a feed's `updatedAt`
/// does); a deposit epoch leaves its slot only settled or EXPIRED, so no request is ever orphaned.
library RequestQueue {
    using SafeCast for uint256;

    uint8 internal constant PENDING = 0;
    uint8 internal constant SETTLED = 1;
    /// @dev A deposit epoch keepers or the feed left unsettled past its deadline: its requests can only be
    /// cancelled.
    uint8 internal constant EXPIRED = 2;

    struct Queue {
        uint48 open;
        uint48 held;
        uint48 batch;
        uint48 batchSince; // latest round time when the batch slot was filled: the liveness window's start
        uint48 lastId;
    }

    struct Epoch {
        uint128 amount; // requested: assets (deposits) or shares (redemptions)
        uint128 out; // once settled: shares for the depositors, or assets for the redeemers
        uint48 startTime; // latest round time when the epoch opened
        uint48 lastRequest; // timestamp of its latest request
        uint48 mergedInto; // the epoch whose settlement prices it (0: itself)
        uint16 feeBps; // the lowest mint or redeem fee in force at any of its requests
        uint8 status; // PENDING, SETTLED or EXPIRED
        uint128 refund; // once settled: of `amount`, what the settlement left unfilled (deposits over the cap)
    }

    struct Book {
        Queue queue;
        mapping(uint256 => Epoch) epochs;
    }

    /// @dev The moves a roll makes, decided without writing (shared by the roll and the views).
    struct Roll {
        bool mergeHeld; // the held epoch qualifies: into the batch
        bool openToBatch; // the open epoch qualifies: into the batch
        bool openToHeld; // a round closed the open epoch in its last request's second: into (or onto) held
        bool expireBatch; // the batch's window passed
        bool expireFresh; // what qualifies now forms a new batch whose window already passed
        bool expireOpen; // the open epoch waited past its deadline without a round
        bool expireHeld; // the held epoch (after this roll's moves) waited past its deadline without a round
    }

    /// @notice The batch a roll to round time `u` at time `now_` leaves, without writing: its epoch id (0 when
    /// none, or when it expires), amount, fee and latest request.
    /// @param window Liveness window after which the batch expires (0: never, for redemptions).
    function peekBatch(Book storage b, uint256 u, uint256 now_, uint256 window)
        internal
        view
        returns (uint256 id, uint256 amount, uint256 feeBps, uint256 lastRequest)
    {
        Roll memory r = _plan(b, u, now_, window, 0);
        Queue memory q = b.queue;
        feeBps = type(uint16).max;
        if (q.batch != 0 && !r.expireBatch) {
            (id, amount, feeBps, lastRequest) = _add(b.epochs[q.batch], q.batch, 0, 0, feeBps, 0);
        }
        if (r.expireFresh) return (id, amount, feeBps, lastRequest);
        if (r.mergeHeld) (id, amount, feeBps, lastRequest) = _add(b.epochs[q.held], id, amount, q.held, feeBps, lastRequest);
        if (r.openToBatch) (id, amount, feeBps, lastRequest) = _add(b.epochs[q.open], id, amount, q.open, feeBps, lastRequest);
    }

    /// @notice Latest request among the epochs that do not qualify yet (0: none waits).
    function lastUnqualified(Book storage b) internal view returns (uint256 last) {
        Queue memory q = b.queue;
        if (q.open != 0) last = b.epochs[q.open].lastRequest;
        if (q.held != 0 && b.epochs[q.held].lastRequest > last) last = b.epochs[q.held].lastRequest;
    }

    /// @notice Rolls the queue to round time `u` at time `now_` (see the library's notes). A batch whose window
    /// passed expires before what qualifies now joins a batch, so fresh requests never expire with a stale one.
    /// @param window Liveness window of a batch (0: never expires, for redemptions).
    /// @param timeout How long an epoch that does not qualify may wait for a round newer than the later of `u`
    /// and its own opening round before it expires (0: never, for redemptions): the feed's heartbeat plus the
    /// window, so a dead or reverting feed never holds a deposit in escrow for ever.
    function roll(Book storage b, uint256 u, uint256 now_, uint256 window, uint256 timeout) internal {
        Roll memory r = _plan(b, u, now_, window, timeout);
        Queue memory q = b.queue;
        if (r.expireBatch) q.batch = _expire(b, q.batch);
        if (r.mergeHeld) {
            _merge(b, q, q.held, u);
            q.held = 0;
        }
        if (r.openToBatch) {
            _merge(b, q, q.open, u);
            q.open = 0;
        } else if (r.openToHeld) {
            if (q.held == 0) q.held = q.open;
            else _absorb(b, q.held, q.open);
            q.open = 0;
        }
        if (r.expireFresh) q.batch = _expire(b, q.batch);
        if (r.expireOpen) q.open = _expire(b, q.open);
        if (r.expireHeld) q.held = _expire(b, q.held);
        if (r.mergeHeld || r.openToBatch || r.openToHeld || r.expireBatch || r.expireOpen || r.expireHeld) {
            b.queue = q;
        }
    }

    /// @notice Adds `amount` requested now to the open epoch (opened at round time `u` if none is), lowering
    /// its fee to `feeBps` if that is lower. Reverts (SafeCast) when the amount does not fit the epoch.
    /// @return id The open epoch.
    function add(Book storage b, uint256 amount, uint256 u, uint256 now_, uint256 feeBps) internal returns (uint48 id) {
        id = b.queue.open;
        if (id == 0) {
            id = ++b.queue.lastId;
            b.queue.open = id;
            b.epochs[id] =
                Epoch(amount.toUint128(), 0, u.toUint48(), now_.toUint48(), 0, feeBps.toUint16(), PENDING, 0);
        } else {
            Epoch storage e = b.epochs[id];
            e.amount = (e.amount + amount).toUint128();
            e.lastRequest = now_.toUint48();
            if (feeBps < e.feeBps) e.feeBps = uint16(feeBps);
        }
    }

    /// @notice Marks the batch `id` settled with `out` for its requesters and `refund` of its amount left
    /// unfilled (returned to them), and empties the batch slot.
    function settle(Book storage b, uint256 id, uint256 out, uint256 refund) internal {
        Epoch storage e = b.epochs[id];
        e.out = out.toUint128();
        e.status = SETTLED;
        if (refund != 0) e.refund = refund.toUint128();
        b.queue.batch = 0;
    }

    /// @notice The epoch that prices epoch `id`: itself, or the one its merges lead to (at most two hops: open
    /// into held, held into the batch).
    function resolve(Book storage b, uint256 id) internal view returns (uint256) {
        uint256 into = b.epochs[id].mergedInto;
        while (into != 0) {
            id = into;
            into = b.epochs[id].mergedInto;
        }
        return id;
    }

    /// @notice Whether epoch `id` (resolved) sits in one of the live slots.
    function isLive(Book storage b, uint256 id) internal view returns (bool) {
        Queue memory q = b.queue;
        return id != 0 && (id == q.open || id == q.held || id == q.batch);
    }

    /// @notice When the epoch `id` in the open or held slot expires if no round newer than `u` comes.
    function deadline(Book storage b, uint256 id, uint256 u, uint256 timeout) internal view returns (uint256) {
        uint256 start = b.epochs[id].startTime;
        return (u > start ? u : start) + timeout;
    }

    function _plan(Book storage b, uint256 u, uint256 now_, uint256 window, uint256 timeout)
        private
        view
        returns (Roll memory r)
    {
        Queue memory q = b.queue;
        if (q.held != 0) r.mergeHeld = u > b.epochs[q.held].lastRequest;
        if (q.open != 0) {
            Epoch storage e = b.epochs[q.open];
            if (u > e.startTime) {
                if (u > e.lastRequest) r.openToBatch = true;
                else r.openToHeld = true;
            }
        }
        if (window != 0) {
            r.expireBatch = q.batch != 0 && now_ >= uint256(q.batchSince) + window;
            bool fresh = (q.batch == 0 || r.expireBatch) && (r.mergeHeld || r.openToBatch);
            r.expireFresh = fresh && now_ >= u + window;
        }
        if (timeout != 0) {
            r.expireOpen = q.open != 0 && !(r.openToBatch || r.openToHeld) && now_ >= deadline(b, q.open, u, timeout);
            uint256 held = r.mergeHeld ? 0 : q.held;
            if (held == 0 && r.openToHeld) held = q.open;
            r.expireHeld = held != 0 && now_ >= deadline(b, held, u, timeout);
        }
    }

    /// @dev Moves epoch `src` into the batch: into the empty slot (keeping its id), or merged into the batch.
    function _merge(Book storage b, Queue memory q, uint48 src, uint256 u) private {
        if (q.batch == 0) {
            q.batch = src;
            q.batchSince = u.toUint48();
            return;
        }
        _absorb(b, q.batch, src);
    }

    /// @dev Merges epoch `src` into epoch `dst`: its amount, latest request and lowest fee.
    function _absorb(Book storage b, uint48 dst, uint48 src) private {
        Epoch storage d = b.epochs[dst];
        Epoch storage s = b.epochs[src];
        d.amount = (uint256(d.amount) + s.amount).toUint128();
        if (s.lastRequest > d.lastRequest) d.lastRequest = s.lastRequest;
        if (s.feeBps < d.feeBps) d.feeBps = s.feeBps;
        s.mergedInto = dst;
    }

    /// @dev Marks epoch `id` EXPIRED (emitting DepositsExpired) and returns 0, its slot's new value.
    function _expire(Book storage b, uint48 id) private returns (uint48) {
        b.epochs[id].status = EXPIRED;
        emit ILeveragedToken.DepositsExpired(id, b.epochs[id].amount);
        return 0;
    }

    /// @dev The running batch of peekBatch with epoch `srcId` (`e`) merged in.
    function _add(Epoch storage e, uint256 id, uint256 amount, uint256 srcId, uint256 feeBps, uint256 lastRequest)
        private
        view
        returns (uint256, uint256, uint256, uint256)
    {
        if (id == 0) id = srcId;
        if (e.feeBps < feeBps) feeBps = e.feeBps;
        if (e.lastRequest > lastRequest) lastRequest = e.lastRequest;
        return (id, amount + e.amount, feeBps, lastRequest);
    }
}
