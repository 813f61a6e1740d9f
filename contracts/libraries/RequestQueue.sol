// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title RequestQueue
/// @notice One side's waiting requests (deposits or redemptions), grouped into epochs by oracle round so
/// that a settlement, a request and a claim each cost O(1) (DESIGN.md 7.4). An epoch holds the requests
/// made while the feed's latest round stayed the same. It *qualifies* at a round published strictly after
/// its last request (`updatedAt > lastRequest`): a round in the same block or second as a request never
/// prices it. Three live slots: `open` takes new requests; `held` is an epoch closed by a round that shares
/// its last request's second (it qualifies at the next round); `batch` is everything qualified and not yet
/// settled, which one settlement prices at one price.
/// @dev Every request, settlement and cancel first rolls the queue it touches to the latest round time `u`
/// (read raw: a stale feed only means nothing qualifies). Invariants: `batch` qualifies at the latest round;
/// `held` holds at most one epoch; a merged epoch is never a merge target, so `resolve` takes one hop.
library RequestQueue {
    uint8 internal constant PENDING = 0;
    uint8 internal constant SETTLED = 1;
    /// @dev A deposit batch its window passed without settlement: its requests can only be cancelled.
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
    }

    struct Book {
        Queue queue;
        mapping(uint256 => Epoch) epochs;
    }

    /// @dev The moves a roll makes, decided without writing (shared by the roll and the views).
    struct Roll {
        bool mergeHeld;
        bool openToBatch;
        bool openToHeld;
        bool expire;
        uint48 batchSince;
    }

    /// @notice The batch a roll to round time `u` at time `now_` leaves, without writing: its epoch id (0 when
    /// none, or when it expires), amount, fee and latest request.
    /// @param window Liveness window after which the batch expires (0: never, for redemptions).
    function peekBatch(Book storage b, uint256 u, uint256 now_, uint256 window)
        internal
        view
        returns (uint256 id, uint256 amount, uint256 feeBps, uint256 lastRequest)
    {
        Roll memory r = _plan(b, u, now_, window);
        if (r.expire) return (0, 0, 0, 0);
        Queue memory q = b.queue;
        feeBps = type(uint16).max;
        if (q.batch != 0) (id, amount, feeBps, lastRequest) = _add(b.epochs[q.batch], q.batch, 0, 0, feeBps, 0);
        if (r.mergeHeld) (id, amount, feeBps, lastRequest) = _add(b.epochs[q.held], id, amount, q.held, feeBps, lastRequest);
        if (r.openToBatch) (id, amount, feeBps, lastRequest) = _add(b.epochs[q.open], id, amount, q.open, feeBps, lastRequest);
    }

    /// @notice Latest request among the epochs that do not qualify yet (0: none waits).
    function lastUnqualified(Book storage b) internal view returns (uint256 last) {
        Queue memory q = b.queue;
        if (q.open != 0) last = b.epochs[q.open].lastRequest;
        if (q.held != 0 && b.epochs[q.held].lastRequest > last) last = b.epochs[q.held].lastRequest;
    }

    /// @notice Rolls the queue to round time `u` at time `now_` (see the library's notes).
    /// @return expired The deposit batch retired by this roll (0: none).
    function roll(Book storage b, uint256 u, uint256 now_, uint256 window) internal returns (uint256 expired) {
        Roll memory r = _plan(b, u, now_, window);
        if (!(r.mergeHeld || r.openToBatch || r.openToHeld || r.expire)) return 0;
        Queue memory q = b.queue;
        if (r.mergeHeld) {
            _merge(b, q, q.held, u);
            q.held = 0;
        }
        if (r.openToBatch) {
            _merge(b, q, q.open, u);
            q.open = 0;
        } else if (r.openToHeld) {
            q.held = q.open;
            q.open = 0;
        }
        if (r.expire) {
            expired = q.batch;
            b.epochs[expired].status = EXPIRED;
            q.batch = 0;
        }
        b.queue = q;
    }

    /// @notice Adds `amount` requested now to the open epoch (opened at round time `u` if none is), lowering
    /// its fee to `feeBps` if that is lower.
    /// @return id The open epoch.
    function add(Book storage b, uint256 amount, uint256 u, uint256 now_, uint256 feeBps) internal returns (uint48 id) {
        id = b.queue.open;
        if (id == 0) {
            id = ++b.queue.lastId;
            b.queue.open = id;
            b.epochs[id] = Epoch(uint128(amount), 0, uint48(u), uint48(now_), 0, uint16(feeBps), PENDING);
        } else {
            Epoch storage e = b.epochs[id];
            e.amount += uint128(amount);
            e.lastRequest = uint48(now_);
            if (feeBps < e.feeBps) e.feeBps = uint16(feeBps);
        }
    }

    /// @notice Marks the batch `id` settled with `out` for its requesters and empties the batch slot.
    function settle(Book storage b, uint256 id, uint256 out) internal {
        Epoch storage e = b.epochs[id];
        e.out = uint128(out);
        e.status = SETTLED;
        b.queue.batch = 0;
    }

    /// @notice The epoch that prices epoch `id`: itself, or the one it was merged into.
    function resolve(Book storage b, uint256 id) internal view returns (uint256) {
        uint256 into = b.epochs[id].mergedInto;
        return into == 0 ? id : into;
    }

    function _plan(Book storage b, uint256 u, uint256 now_, uint256 window) private view returns (Roll memory r) {
        Queue memory q = b.queue;
        if (q.held != 0) r.mergeHeld = u > b.epochs[q.held].lastRequest;
        if (q.open != 0) {
            Epoch storage e = b.epochs[q.open];
            if (u > e.startTime) {
                if (u > e.lastRequest) r.openToBatch = true;
                else r.openToHeld = true;
            }
        }
        r.batchSince = q.batch != 0 ? q.batchSince : uint48(u);
        bool hasBatch = q.batch != 0 || r.mergeHeld || r.openToBatch;
        r.expire = window != 0 && hasBatch && now_ >= uint256(r.batchSince) + window;
    }

    /// @dev Moves epoch `src` into the batch: into the empty slot (keeping its id), or merged into the batch.
    function _merge(Book storage b, Queue memory q, uint48 src, uint256 u) private {
        if (q.batch == 0) {
            q.batch = src;
            q.batchSince = uint48(u);
            return;
        }
        Epoch storage dst = b.epochs[q.batch];
        Epoch storage s = b.epochs[src];
        dst.amount += s.amount;
        if (s.lastRequest > dst.lastRequest) dst.lastRequest = s.lastRequest;
        if (s.feeBps < dst.feeBps) dst.feeBps = s.feeBps;
        s.mergedInto = q.batch;
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
