"""The ERC-20s of the contracts: OpenZeppelin's ERC20 as the test stablecoin deploys it, and Solady's ERC20 as
the token inherits it (its shares): balances, allowances and supply, each with its library's errors. Entry
points take the caller first."""

from __future__ import annotations

from levtoken.model.errors import (
    ERC20InsufficientAllowance, ERC20InsufficientBalance, ERC20InvalidReceiver, ERC20InvalidSender,
    InsufficientAllowance, InsufficientBalance,
)
from levtoken.model.journal import Journal, Journaled
from levtoken.shapes import UINT256_MAX, ZERO_ADDRESS


class ERC20(Journaled):
    """OpenZeppelin's ERC-20 state and transfers."""

    def __init__(self, journal: Journal | None, decimals: int = 18) -> None:
        object.__setattr__(self, "_journal", journal)
        self.decimals = decimals
        self.balances = self._mapping()
        self.allowances = self._mapping()  # (owner, spender) -> amount
        self.total_supply = 0

    def balance_of(self, account: str) -> int:
        """balanceOf."""
        return self.balances.get(account, 0)

    def transfer(self, caller: str, to: str, amount: int) -> bool:
        """transfer."""
        with self._atomic():
            self._transfer(caller, to, amount)
            return True

    def approve(self, caller: str, spender: str, amount: int) -> bool:
        """approve."""
        self.allowances[(caller, spender)] = amount
        return True

    def transfer_from(self, caller: str, owner: str, to: str, amount: int) -> bool:
        """transferFrom: spends the caller's allowance (unlimited at UINT256_MAX)."""
        with self._atomic():
            self._spend_allowance(owner, caller, amount)
            self._transfer(owner, to, amount)
            return True

    def _transfer(self, sender: str, to: str, amount: int) -> None:
        if sender == ZERO_ADDRESS:
            raise ERC20InvalidSender(sender)
        if to == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(to)
        self._update(sender, to, amount)

    def _update(self, sender: str, to: str, amount: int) -> None:
        if sender == ZERO_ADDRESS:
            self.total_supply += amount
        else:
            balance = self.balance_of(sender)
            if balance < amount:
                raise ERC20InsufficientBalance(sender, balance, amount)
            self.balances[sender] = balance - amount
        if to == ZERO_ADDRESS:
            self.total_supply -= amount
        else:
            self.balances[to] = self.balance_of(to) + amount

    def _mint(self, to: str, amount: int) -> None:
        if to == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(to)
        self._update(ZERO_ADDRESS, to, amount)

    def _burn(self, owner: str, amount: int) -> None:
        if owner == ZERO_ADDRESS:
            raise ERC20InvalidSender(owner)
        self._update(owner, ZERO_ADDRESS, amount)

    def _spend_allowance(self, owner: str, spender: str, amount: int) -> None:
        current = self.allowances.get((owner, spender), 0)
        if current < UINT256_MAX:
            if current < amount:
                raise ERC20InsufficientAllowance(spender, current, amount)
            self.allowances[(owner, spender)] = current - amount


class SoladyERC20(ERC20):
    """Solady's ERC20, as LeveragedToken inherits it: no zero-address checks of its own (the token refuses a
    transfer to the zero address itself, with ERC20InvalidReceiver) and argument-less errors."""

    def transfer(self, caller: str, to: str, amount: int) -> bool:
        """transfer (LeveragedToken's: the zero address is refused)."""
        if to == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(to)
        return super().transfer(caller, to, amount)

    def transfer_from(self, caller: str, owner: str, to: str, amount: int) -> bool:
        """transferFrom (LeveragedToken's: the zero address is refused)."""
        if to == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(to)
        return super().transfer_from(caller, owner, to, amount)

    def _transfer(self, sender: str, to: str, amount: int) -> None:
        self._update(sender, to, amount)

    def _update(self, sender: str, to: str, amount: int) -> None:
        if sender != ZERO_ADDRESS and self.balance_of(sender) < amount:
            raise InsufficientBalance()
        super()._update(sender, to, amount)

    def _mint(self, to: str, amount: int) -> None:
        self._update(ZERO_ADDRESS, to, amount)

    def _burn(self, owner: str, amount: int) -> None:
        self._update(owner, ZERO_ADDRESS, amount)

    def _spend_allowance(self, owner: str, spender: str, amount: int) -> None:
        current = self.allowances.get((owner, spender), 0)
        if current < UINT256_MAX and current < amount:
            raise InsufficientAllowance()
        super()._spend_allowance(owner, spender, amount)
