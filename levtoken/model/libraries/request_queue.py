"""RequestQueue (contracts/libraries/RequestQueue.sol): one side's waiting requests (deposits or
redemptions), grouped into epochs by oracle round. An epoch *qualifies* at a round published strictly after
its last request (`updatedAt > lastRequest`). Three live slots: `open` takes new requests; `held` is an
epoch closed by a round that shares its last request's second; `batch` is everything qualified and not yet
settled, which one settlement prices at one price.

A `Book` is the library's storage struct: its `queue` (a `Queue` value) and its `epochs` (a storage mapping
of `Epoch` values). Stored structs are values: a change replaces them (journal.memory), never mutates.
"""

from __future__ import annotations

from dataclasses import dataclass

from levtoken.model.journal import Journal, Journaled, memory
from levtoken.model.libraries.safe_cast import checked_uint, to_uint

PENDING = 0
SETTLED = 1
EXPIRED = 2  # a deposit epoch keepers or the feed left unsettled past its deadline: only cancellable
UINT16_MAX = 2**16 - 1


@dataclass
class Queue:
    """RequestQueue.Queue: the live slots (epoch ids, 0: empty), the batch's start and the last id."""

    open: int = 0
    held: int = 0
    batch: int = 0
    batch_since: int = 0  # latest round time when the batch slot was filled: the liveness window's start
    last_id: int = 0


@dataclass
class Epoch:
    """RequestQueue.Epoch: requested amount, settled output, times, merge target, fee and status."""

    amount: int = 0  # requested: assets (deposits) or shares (redemptions)
    out: int = 0  # once settled: shares for the depositors, or assets for the redeemers
    start_time: int = 0  # latest round time when the epoch opened
    last_request: int = 0  # timestamp of its latest request
    merged_into: int = 0  # the epoch whose settlement prices it (0: itself)
    fee_bps: int = 0  # the lowest mint or redeem fee in force at any of its requests
    status: int = PENDING
    refund: int = 0  # once settled: of `amount`, what the settlement left unfilled (deposits over the cap)


@dataclass
class Roll:
    """RequestQueue.Roll: the moves a roll makes, decided without writing."""

    merge_held: bool = False  # the held epoch qualifies: into the batch
    open_to_batch: bool = False  # the open epoch qualifies: into the batch
    open_to_held: bool = False  # a round closed the open epoch in its last request's second: into (onto) held
    expire_batch: bool = False  # the batch's window passed
    expire_fresh: bool = False  # what qualifies now forms a new batch whose window already passed
    expire_open: bool = False  # the open epoch waited past its deadline without a round
    expire_held: bool = False  # the held epoch (after this roll's moves) waited past its deadline


class Book(Journaled):
    """RequestQueue.Book: the queue and its epochs (an absent epoch reads as a zero Epoch)."""

    def __init__(self, journal: Journal | None) -> None:
        object.__setattr__(self, "_journal", journal)
        self.queue = Queue()
        self.epochs = self._mapping()

    def epoch(self, epoch_id: int) -> Epoch:
        """The stored epoch `epoch_id` (a zero Epoch when never written)."""
        return self.epochs.get(epoch_id) or Epoch()


def peek_batch(b: Book, u: int, now: int, window: int) -> tuple[int, int, int, int]:
    """peekBatch: the batch a roll to round time `u` at `now` leaves, without writing: (id, amount, feeBps,
    lastRequest); all zero when none, or when it expires (`window` 0: never)."""
    r = _plan(b, u, now, window, 0)
    q = b.queue
    epoch_id, amount, fee_bps, last_request = 0, 0, UINT16_MAX, 0
    if q.batch != 0 and not r.expire_batch:
        epoch_id, amount, fee_bps, last_request = _add(b.epoch(q.batch), q.batch, 0, 0, fee_bps, 0)
    if r.expire_fresh:
        return epoch_id, amount, fee_bps, last_request
    if r.merge_held:
        epoch_id, amount, fee_bps, last_request = _add(b.epoch(q.held), epoch_id, amount, q.held, fee_bps, last_request)
    if r.open_to_batch:
        epoch_id, amount, fee_bps, last_request = _add(b.epoch(q.open), epoch_id, amount, q.open, fee_bps, last_request)
    return epoch_id, amount, fee_bps, last_request


def last_unqualified(b: Book) -> int:
    """lastUnqualified: latest request among the epochs that do not qualify yet (0: none waits)."""
    q = b.queue
    last = 0
    if q.open != 0:
        last = b.epoch(q.open).last_request
    if q.held != 0 and b.epoch(q.held).last_request > last:
        last = b.epoch(q.held).last_request
    return last


def roll(b: Book, u: int, now: int, window: int, timeout: int) -> list[int]:
    """roll: moves the queue to round time `u` at `now`. A batch whose `window` passed expires before what
    qualifies now joins a batch; an epoch no round qualified for `timeout` past the later of `u` and its own
    opening round expires (0: never). Returns the epochs it expired, in the order DepositsExpired is emitted."""
    r = _plan(b, u, now, window, timeout)
    q = memory(b.queue)
    expired: list[int] = []
    if r.expire_batch:
        q.batch = _expire(b, q.batch, expired)
    if r.merge_held:
        _merge(b, q, q.held, u)
        q.held = 0
    if r.open_to_batch:
        _merge(b, q, q.open, u)
        q.open = 0
    elif r.open_to_held:
        if q.held == 0:
            q.held = q.open
        else:
            _absorb(b, q.held, q.open)
        q.open = 0
    if r.expire_fresh:
        q.batch = _expire(b, q.batch, expired)
    if r.expire_open:
        q.open = _expire(b, q.open, expired)
    if r.expire_held:
        q.held = _expire(b, q.held, expired)
    if r.merge_held or r.open_to_batch or r.open_to_held or r.expire_batch or r.expire_open or r.expire_held:
        b.queue = q
    return expired


def add(b: Book, amount: int, u: int, now: int, fee_bps: int) -> int:
    """add: `amount` requested now joins the open epoch (opened at round time `u` if none is), lowering its
    fee to `fee_bps` if lower; returns the open epoch. SafeCast reverts when the amount does not fit."""
    epoch_id = b.queue.open
    if epoch_id == 0:
        q = memory(b.queue)
        q.last_id = checked_uint(q.last_id + 1, 48)
        epoch_id = q.last_id
        q.open = epoch_id
        b.queue = q
        b.epochs[epoch_id] = Epoch(to_uint(amount, 128), 0, to_uint(u, 48), to_uint(now, 48), 0,
                                   to_uint(fee_bps, 16), PENDING)
    else:
        e = memory(b.epoch(epoch_id))
        e.amount = to_uint(e.amount + amount, 128)
        e.last_request = to_uint(now, 48)
        if fee_bps < e.fee_bps:
            e.fee_bps = fee_bps
        b.epochs[epoch_id] = e
    return epoch_id


def settle(b: Book, epoch_id: int, out: int, refund: int) -> None:
    """settle: marks the batch `epoch_id` settled with `out` for its requesters and `refund` of its amount left
    unfilled (returned to them), and empties the batch slot."""
    _set_epoch(b, epoch_id, out=to_uint(out, 128), status=SETTLED, refund=to_uint(refund, 128))
    q = memory(b.queue)
    q.batch = 0
    b.queue = q


def resolve(b: Book, epoch_id: int) -> int:
    """resolve: the epoch that prices epoch `epoch_id`: itself, or the one its merges lead to."""
    into = b.epoch(epoch_id).merged_into
    while into != 0:
        epoch_id = into
        into = b.epoch(epoch_id).merged_into
    return epoch_id


def is_live(b: Book, epoch_id: int) -> bool:
    """isLive: whether epoch `epoch_id` (resolved) sits in one of the live slots."""
    q = b.queue
    return epoch_id != 0 and epoch_id in (q.open, q.held, q.batch)


def deadline(b: Book, epoch_id: int, u: int, timeout: int) -> int:
    """deadline: when the open or held epoch `epoch_id` expires if no round newer than `u` comes."""
    return max(u, b.epoch(epoch_id).start_time) + timeout


def _plan(b: Book, u: int, now: int, window: int, timeout: int) -> Roll:
    q = b.queue
    r = Roll()
    if q.held != 0:
        r.merge_held = u > b.epoch(q.held).last_request
    if q.open != 0:
        e = b.epoch(q.open)
        if u > e.start_time:
            if u > e.last_request:
                r.open_to_batch = True
            else:
                r.open_to_held = True
    if window != 0:
        r.expire_batch = q.batch != 0 and now >= q.batch_since + window
        fresh = (q.batch == 0 or r.expire_batch) and (r.merge_held or r.open_to_batch)
        r.expire_fresh = fresh and now >= u + window
    if timeout != 0:
        r.expire_open = (q.open != 0 and not (r.open_to_batch or r.open_to_held)
                         and now >= deadline(b, q.open, u, timeout))
        held = 0 if r.merge_held else q.held
        if held == 0 and r.open_to_held:
            held = q.open
        r.expire_held = held != 0 and now >= deadline(b, held, u, timeout)
    return r


def _merge(b: Book, q: Queue, src: int, u: int) -> None:
    """Moves epoch `src` into the batch of `q` (a memory copy): into the empty slot, or merged into it."""
    if q.batch == 0:
        q.batch = src
        q.batch_since = to_uint(u, 48)
        return
    _absorb(b, q.batch, src)


def _absorb(b: Book, dst_id: int, src: int) -> None:
    """Merges epoch `src` into epoch `dst_id`: its amount, latest request and lowest fee."""
    dst, s = memory(b.epoch(dst_id)), b.epoch(src)
    dst.amount = to_uint(dst.amount + s.amount, 128)
    if s.last_request > dst.last_request:
        dst.last_request = s.last_request
    if s.fee_bps < dst.fee_bps:
        dst.fee_bps = s.fee_bps
    b.epochs[dst_id] = dst
    _set_epoch(b, src, merged_into=dst_id)


def _expire(b: Book, epoch_id: int, expired: list[int]) -> int:
    """Marks epoch `epoch_id` EXPIRED (DepositsExpired), records it in `expired` and returns 0."""
    _set_epoch(b, epoch_id, status=EXPIRED)
    expired.append(epoch_id)
    return 0


def _add(e: Epoch, epoch_id: int, amount: int, src_id: int, fee_bps: int,
         last_request: int) -> tuple[int, int, int, int]:
    """The running batch of peek_batch with epoch `src_id` (`e`) merged in."""
    if epoch_id == 0:
        epoch_id = src_id
    if e.fee_bps < fee_bps:
        fee_bps = e.fee_bps
    if e.last_request > last_request:
        last_request = e.last_request
    return epoch_id, amount + e.amount, fee_bps, last_request


def _set_epoch(b: Book, epoch_id: int, **fields: int) -> None:
    """Replaces stored epoch `epoch_id` by a copy with `fields` changed."""
    e = memory(b.epoch(epoch_id))
    for name, value in fields.items():
        setattr(e, name, value)
    b.epochs[epoch_id] = e
