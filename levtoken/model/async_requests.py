"""AsyncRequests (contracts/AsyncRequests.sol): the request book of an asynchronous ERC-4626 vault
(ERC-7540, both sides): requests into escrow, per-controller accounts, operators, the claim forms of
deposit, mint, redeem and withdraw, deposit cancellation after expiry, and the views. Settlements
(LeveragedTokenLogic) price the batches; the state is LeveragedTokenStorage's.

Entry points take the caller's address (msg.sender) first. `requestId` is always 0 and the views take
only the controller. A controller's pending amount becomes claimable lazily (a checkpoint) at its next
request, claim or cancel.
"""

from __future__ import annotations

from dataclasses import dataclass

from levtoken.model.errors import (
    CancelTooEarly, ExceedsClaimable, EarlierRequestPending, NoPendingRequest, PreviewNotAvailable,
    RequestAlreadySettled, SupplyCapExceeded, UnauthorizedOperator, ZeroAmount,
)
from levtoken.model.journal import memory
from levtoken.model.libraries import request_queue, shares_math
from levtoken.model.libraries.fixed_point_math import mul_div_down, mul_div_up
from levtoken.model.libraries.request_queue import Book
from levtoken.model.libraries.safe_cast import checked_uint, to_uint
from levtoken.model.leveraged_token_storage import LeveragedTokenStorage
from levtoken.shapes import UINT256_MAX

UINT128 = 2**128


@dataclass
class Account:
    """AsyncRequests.Account: a controller's requests on one side: pending in `epoch`, and what settled
    epochs left claimable: (assets in, shares out) for deposits, (shares in, assets out) for redemptions."""

    pending: int = 0
    epoch: int = 0
    claim_in: int = 0
    claim_out: int = 0
    claim_refund: int = 0  # deposits: the part of claim_in the supply cap left unfilled, which claims return


class AsyncRequests(LeveragedTokenStorage):
    """The request book; LeveragedToken inherits it as the contract does. Its state is LeveragedTokenStorage's."""

    # --- requests --------------------------------------------------------------------------------
    def request_deposit(self, caller: str, assets: int, controller: str, owner: str) -> int:
        """requestDeposit: `assets` of `owner`'s collateral into escrow for `controller`; returns 0."""
        with self._atomic():
            if assets == 0:
                raise ZeroAmount()
            self._check_operator(caller, owner)
            if controller != owner:
                self._check_controller(caller, controller)
            self._check_deposit_request(assets)
            u = self._roll_deposits()
            self._join(self.deposits, self.deposit_accounts, controller, assets, u, self._fee_bps(True))
            self.escrow_assets = checked_uint(self.escrow_assets + assets)
            self._asset().transfer(owner, self.address, assets)
            return 0

    def request_redeem(self, caller: str, shares: int, controller: str, owner: str) -> int:
        """requestRedeem: `shares` of `owner` into escrow for `controller` (a caller other than the owner
        needs to be its operator or spends its allowance); returns 0."""
        with self._atomic():
            if shares == 0:
                raise ZeroAmount()
            if owner != caller and not self.is_operator(owner, caller):
                self._spend_allowance(owner, caller, shares)
            if controller != owner:
                self._check_controller(caller, controller)
            u = self._roll_redemptions()
            self._join(self.redemptions, self.redeem_accounts, controller, shares, u, self._fee_bps(False))
            self._transfer(owner, self.address, shares)
            return 0

    def poke(self, caller: str | None = None) -> None:
        """poke: rolls both queues to the latest round and keeps the roll (the settlement window of a batch
        that qualifies starts now)."""
        with self._atomic():
            self._roll_deposits()
            self._roll_redemptions()

    def set_operator(self, caller: str, operator: str, approved: bool) -> bool:
        """setOperator: lets (or stops) `operator` request and claim for the caller."""
        with self._atomic():
            if approved:
                self.operators[(caller, operator)] = True
            else:
                self.operators.pop((caller, operator), None)
            return True

    # --- claims ----------------------------------------------------------------------------------
    def deposit(self, caller: str, assets: int, receiver: str, controller: str | None = None) -> int:
        """deposit (claim): the shares of `assets` of `controller`'s claimable deposit (the caller's when
        None, the two-argument form) to `receiver`; returns the shares."""
        with self._atomic():
            controller = caller if controller is None else controller
            self._check_controller(caller, controller)
            assets, shares = self._claim(self.deposits, self.deposit_accounts, controller, assets, True)
            self._claim_deposit(controller, receiver, assets, shares)
            return shares

    def mint(self, caller: str, shares: int, receiver: str, controller: str | None = None) -> int:
        """mint (claim): exactly `shares` of `controller`'s claimable deposit (the caller's when None) to
        `receiver`; returns the assets they take out of the claimable."""
        with self._atomic():
            controller = caller if controller is None else controller
            self._check_controller(caller, controller)
            assets, shares = self._claim(self.deposits, self.deposit_accounts, controller, shares, False)
            self._claim_deposit(controller, receiver, assets, shares)
            return assets

    def redeem(self, caller: str, shares: int, receiver: str, controller: str) -> int:
        """redeem (claim): the assets of `shares` of `controller`'s claimable redemption to `receiver`;
        returns the assets."""
        with self._atomic():
            self._check_controller(caller, controller)
            shares, assets = self._claim(self.redemptions, self.redeem_accounts, controller, shares, True)
            self._pay_out(receiver, assets)
            return assets

    def withdraw(self, caller: str, assets: int, receiver: str, controller: str) -> int:
        """withdraw (claim): exactly `assets` of `controller`'s claimable redemption to `receiver`; returns
        the shares they take out of the claimable."""
        with self._atomic():
            self._check_controller(caller, controller)
            shares, assets = self._claim(self.redemptions, self.redeem_accounts, controller, assets, False)
            self._pay_out(receiver, assets)
            return shares

    # --- cancellation ----------------------------------------------------------------------------
    def cancel_deposit_request(self, caller: str, receiver: str, controller: str) -> int:
        """cancelDepositRequest: refunds `controller`'s pending deposit to `receiver` once its batch expired
        (CancelTooEarly before, RequestAlreadySettled after a settlement, NoPendingRequest without one)."""
        with self._atomic():
            self._check_controller(caller, controller)
            self._roll_deposits()
            a = self.deposit_accounts.get(controller) or Account()
            assets = a.pending
            if assets == 0:
                raise NoPendingRequest(controller)
            e, status = self._checkpoint(self.deposits, self.deposit_accounts, controller)
            if status == request_queue.SETTLED:
                raise RequestAlreadySettled(e)
            if status == request_queue.PENDING and request_queue.is_live(self.deposits, e):
                raise CancelTooEarly(self._cancel_allowed_at(e))
            self._set_account(self.deposit_accounts, controller, pending=0)
            self._pay_out(receiver, assets)
            return assets

    # --- views -----------------------------------------------------------------------------------
    def is_operator(self, owner: str, operator: str) -> bool:
        """isOperator."""
        return self.operators.get((owner, operator), False)

    def pending_deposit_request(self, controller: str) -> int:
        """pendingDepositRequest (an expired request counts as pending until cancelled)."""
        return self._pending(self.deposits, self._account(self.deposit_accounts, controller))

    def claimable_deposit_request(self, controller: str) -> int:
        """claimableDepositRequest: claimable deposit assets."""
        return self._claimable(self.deposits, self._account(self.deposit_accounts, controller))[0]

    def pending_redeem_request(self, controller: str) -> int:
        """pendingRedeemRequest."""
        return self._pending(self.redemptions, self._account(self.redeem_accounts, controller))

    def claimable_redeem_request(self, controller: str) -> int:
        """claimableRedeemRequest: claimable redemption shares."""
        return self._claimable(self.redemptions, self._account(self.redeem_accounts, controller))[0]

    def max_deposit(self, controller: str) -> int:
        """maxDeposit: claimable deposit assets of `controller`."""
        return self._claimable(self.deposits, self._account(self.deposit_accounts, controller))[0]

    def max_mint(self, controller: str) -> int:
        """maxMint: claimable deposit shares of `controller`."""
        return self._claimable(self.deposits, self._account(self.deposit_accounts, controller))[1]

    def max_withdraw(self, controller: str) -> int:
        """maxWithdraw: claimable redemption assets of `controller`."""
        return self._claimable(self.redemptions, self._account(self.redeem_accounts, controller))[1]

    def max_redeem(self, controller: str) -> int:
        """maxRedeem: claimable redemption shares of `controller`."""
        return self._claimable(self.redemptions, self._account(self.redeem_accounts, controller))[0]

    def preview_deposit(self, assets: int) -> int:
        """previewDeposit: reverts PreviewNotAvailable (asynchronous)."""
        raise PreviewNotAvailable()

    def preview_mint(self, shares: int) -> int:
        """previewMint: reverts PreviewNotAvailable (asynchronous)."""
        raise PreviewNotAvailable()

    def preview_withdraw(self, assets: int) -> int:
        """previewWithdraw: reverts PreviewNotAvailable (asynchronous)."""
        raise PreviewNotAvailable()

    def preview_redeem(self, shares: int) -> int:
        """previewRedeem: reverts PreviewNotAvailable (asynchronous)."""
        raise PreviewNotAvailable()

    # --- internal --------------------------------------------------------------------------------
    def _fee_bps(self, is_deposit: bool) -> int:
        """Mint (deposits) or redeem fee in force, basis points."""
        return self.params.mint_fee_bps if is_deposit else self.params.redeem_fee_bps

    def _check_deposit_request(self, assets: int) -> None:
        """Paused: EnforcedPause. Supply at its cap, or past it with this request's shares at the current NAV
        (before costs and fees): SupplyCapExceeded. Without a cap, nothing to value."""
        self._require_not_paused()
        supply, cap = self.total_supply, self.params.supply_cap
        if supply >= cap:
            raise SupplyCapExceeded(supply, cap)
        if cap == UINT256_MAX:
            return
        total, valued = self._valuation()
        supply_after = valued + shares_math.to_shares_down(assets, total, valued, self.virtual_shares)
        if supply_after > cap:
            raise SupplyCapExceeded(supply_after, cap)

    def _join(self, b: Book, accounts: dict, controller: str, amount: int, u: int, fee_bps: int) -> None:
        e, _ = self._checkpoint(b, accounts, controller)
        a = self._account(accounts, controller)
        if a.pending != 0 and e != b.queue.open:
            raise EarlierRequestPending(e)
        epoch = request_queue.add(b, amount, u, self._now(), fee_bps)
        self._set_account(accounts, controller, epoch=epoch, pending=to_uint(a.pending + amount, 128))

    def _checkpoint(self, b: Book, accounts: dict, controller: str) -> tuple[int, int]:
        """Moves a settled pending amount into the claimable pair; returns the resolved epoch and status."""
        a = self._account(accounts, controller)
        pending = a.pending
        if pending == 0:
            return 0, request_queue.PENDING
        e = request_queue.resolve(b, a.epoch)
        ep = b.epoch(e)
        status = ep.status
        if status == request_queue.SETTLED:
            self._set_account(
                accounts, controller,
                claim_out=to_uint(a.claim_out + pending * ep.out // ep.amount, 128),
                claim_in=to_uint(a.claim_in + pending, 128),
                pending=0,
            )
            if ep.refund != 0:
                self._set_account(accounts, controller,
                                  claim_refund=to_uint(a.claim_refund + pending * ep.refund // ep.amount, 128))
        return e, status

    @staticmethod
    def _claimable(b: Book, a: Account) -> tuple[int, int]:
        claim_in, claim_out = a.claim_in, a.claim_out
        pending = a.pending
        if pending == 0:
            return claim_in, claim_out
        ep = b.epoch(request_queue.resolve(b, a.epoch))
        if ep.status == request_queue.SETTLED:
            claim_in += pending
            claim_out += pending * ep.out // ep.amount
        return claim_in, claim_out

    @staticmethod
    def _pending(b: Book, a: Account) -> int:
        pending = a.pending
        if pending == 0 or b.epoch(request_queue.resolve(b, a.epoch)).status == request_queue.SETTLED:
            return 0
        return pending

    def _claim(self, b: Book, accounts: dict, controller: str, amount: int, by_input: bool) -> tuple[int, int]:
        """Takes `amount` of input (`by_input`) or of output out of the claimable pair, after a checkpoint:
        input to output rounds down, output to input up; all of one side takes all of the other."""
        if amount == 0:
            raise ZeroAmount()
        self._checkpoint(b, accounts, controller)
        a = self._account(accounts, controller)
        claim_in, claim_out = a.claim_in, a.claim_out
        if by_input:
            if amount > claim_in:
                raise ExceedsClaimable(amount, claim_in)
            taken = (amount, claim_out if amount == claim_in else mul_div_down(amount, claim_out, claim_in))
        else:
            if amount > claim_out:
                raise ExceedsClaimable(amount, claim_out)
            taken = (claim_in if amount == claim_out else mul_div_up(amount, claim_in, claim_out), amount)
        self._set_account(accounts, controller, claim_in=claim_in - taken[0], claim_out=claim_out - taken[1])
        return taken

    def _claim_deposit(self, controller: str, receiver: str, assets: int, shares: int) -> None:
        """Finishes a deposit claim of `assets` for `shares`: the shares to `receiver`, with the same part of the
        controller's refund (all of it with the last claim; rounded down otherwise)."""
        a = self._account(self.deposit_accounts, controller)
        refund = a.claim_refund if a.claim_in == 0 else mul_div_down(assets, a.claim_refund, a.claim_in + assets)
        if refund != 0:
            self._set_account(self.deposit_accounts, controller, claim_refund=a.claim_refund - refund)
            self._pay_out(receiver, refund)
        self._transfer(self.address, receiver, shares)

    def _pay_out(self, receiver: str, assets: int) -> None:
        """Pays `assets` held in escrow to `receiver`."""
        self.escrow_assets = checked_uint(self.escrow_assets - assets)
        if assets != 0:
            self._asset().transfer(self.address, receiver, assets)

    def _cancel_allowed_at(self, e: int) -> int:
        """When the deposit in live epoch `e` may be cancelled if nothing settles it."""
        q = self.deposits.queue
        if e == q.batch:
            return q.batch_since + self._window()
        u, heartbeat = self._round_time()
        return request_queue.deadline(self.deposits, e, u, heartbeat + self._window())

    def _check_operator(self, caller: str, owner: str) -> None:
        if owner != caller and not self.is_operator(owner, caller):
            raise UnauthorizedOperator(owner, caller)

    def _check_controller(self, caller: str, controller: str) -> None:
        if controller != caller and not self.is_operator(controller, caller):
            raise UnauthorizedOperator(controller, caller)

    @staticmethod
    def _account(accounts: dict, controller: str) -> Account:
        return accounts.get(controller) or Account()

    @staticmethod
    def _set_account(accounts: dict, controller: str, **fields: int) -> None:
        """Replaces the stored account of `controller` by a copy with `fields` changed."""
        a = memory(accounts.get(controller) or Account())
        for name, value in fields.items():
            setattr(a, name, value)
        accounts[controller] = a
