"""The undo log that makes every state-changing call of the model atomic, as a transaction is on chain.

The model's stateful objects (the venue, the tokens, the collateral, the feeds) are `Journaled`: while a
transaction is open, each attribute they assign records its previous value first. Their mappings are
`JournaledDict`s, which record the previous value of each key they change. A transaction that ends in an
exception undoes its records in reverse order, so the whole model is exactly as it was before; one that
succeeds just drops them. Only what a call changes is copied, never the whole model.

Every change of state, recorded or not, also moves the journal's `version`, so a view may memoize a
result on (version, block time): the venue does so for accountState, which every token view reads.

Structs kept in storage (`Position`, `MarketState`, `MarketConfig`, `Params`, the request book's `Queue`,
`Epoch` and `Account`) are values: the
model never changes one in place, it changes a copy (Solidity's `memory`) and assigns it back to the
mapping or attribute, which records the old one. Nested transactions undo back to where they began, like
an external call that reverts inside a `try`.
"""

from __future__ import annotations

from typing import Any, Iterable, TypeVar

MISSING: Any = object()  # the previous value of a key or attribute that did not exist
T = TypeVar("T")


def memory(struct: T) -> T:
    """A copy of a storage struct to change (Solidity's `S memory s = stored;`): a shallow copy, since
    every field of a struct is a number, a string or a flag."""
    copy = object.__new__(type(struct))
    copy.__dict__.update(struct.__dict__)
    return copy


class Journal:
    """The undo log of one model. `with journal:` opens a transaction (or a nested one)."""

    __slots__ = ("entries", "_marks", "version")

    def __init__(self) -> None:
        self.entries: list[tuple[Any, Any, Any]] | None = None  # None: no transaction open
        self._marks: list[int] = []
        self.version = 0  # moves with every change of state (and every undo)

    def __enter__(self) -> "Journal":
        if self.entries is None:
            self.entries = []
        self._marks.append(len(self.entries))
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        mark = self._marks.pop()
        if kind is not None:
            self.undo(mark)
        if not self._marks:
            self.entries = None
        return False

    @property
    def open(self) -> bool:
        """Whether a transaction is open."""
        return self.entries is not None

    def undo(self, mark: int = 0) -> None:
        """Restores every value recorded since entry `mark`, newest first, and drops those records."""
        entries = self.entries
        if entries is None:
            return
        self.version += 1
        while len(entries) > mark:
            target, key, old = entries.pop()
            store = target if isinstance(target, dict) else target.__dict__
            if old is MISSING:
                dict.pop(store, key, None)
            else:
                dict.__setitem__(store, key, old)


class Journaled:
    """A stateful object of the model: attribute assignments are recorded while a transaction is open.
    `_journal` is set (with `object.__setattr__`) before any state; until then nothing is recorded."""

    _journal: Journal | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        journal = self._journal
        if journal is not None:
            journal.version += 1
            if journal.entries is not None:
                journal.entries.append((self, name, self.__dict__.get(name, MISSING)))
        object.__setattr__(self, name, value)

    def _atomic(self) -> Journal:
        """`with self._atomic():` runs a block as one transaction (or a nested one): an exception undoes
        everything the block changed in the whole model."""
        return self._journal  # type: ignore[return-value]

    def _mapping(self, items: Iterable[tuple[Any, Any]] = ()) -> "JournaledDict":
        """A new storage mapping recorded by this object's journal."""
        return JournaledDict(self._journal, items)


class JournaledDict(dict):
    """A storage mapping: each change records the key's previous value while a transaction is open.
    Reads are plain dict reads."""

    __slots__ = ("journal",)

    def __init__(self, journal: Journal | None, items: Iterable[tuple[Any, Any]] | dict = ()) -> None:
        super().__init__(items)
        self.journal = journal

    def _record(self, key: Any) -> None:
        journal = self.journal
        if journal is not None:
            journal.version += 1
            if journal.entries is not None:
                journal.entries.append((self, key, dict.get(self, key, MISSING)))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._record(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._record(key)
        dict.__delitem__(self, key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """dict.setdefault, recorded when it inserts."""
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        """dict.pop, recorded when it removes."""
        if key in self:
            self._record(key)
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[Any, Any]:
        """dict.popitem, recorded."""
        key = next(reversed(self))
        return key, self.pop(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """dict.update, each key recorded."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        """dict.clear, each key recorded."""
        for key in list(self):
            del self[key]

    def __ior__(self, other: Any) -> "JournaledDict":
        self.update(other)
        return self

    def __reduce_ex__(self, protocol: int):
        # Copies (copy.deepcopy of a model) rebuild the mapping with its journal, then its items.
        return (JournaledDict, (self.journal,), None, None, iter(dict.items(self)))
