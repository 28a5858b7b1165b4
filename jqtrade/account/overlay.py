"""The strategy's own orders laid over the last complete broker snapshot.

A broker snapshot of cash and positions is taken every few seconds; the strategy's orders and
their fills arrive in between. Without an overlay a strategy would not see its own sell
until the next snapshot, and ``order_target`` called every minute while the snapshot lags would
buy the same shares again. The overlay adds to the snapshot exactly the part of each order's
effect that the snapshot does not contain yet.

How "the snapshot already contains it" is told: every state of an order that the broker
reported is kept with the broker's time of that report (``update_time`` of the report, or,
when the gate gives none, the time jqtrade received it). A snapshot produced at ``as_of``
contains every reported state whose time is ``<= as_of``: the broker writes its snapshot from
the same books it reports orders from. The part of an order's effect beyond its newest
contained state is the overlay. A state jqtrade only assumes (the order was just sent and
the broker has not reported it) is never taken as contained: its reservation counts on top of
the snapshot until the broker reports the order, which errs towards less cash and fewer
sellable shares.

Effects of one order, from its filled quantity, deal value and working (unfilled, not
canceled) quantity:

* buy: held +filled, cash -(deal value + fees), cash reserved for working shares
  (limit price, or the limit-up estimate for a priced-at-best order, plus fees). Bought shares
  are not sellable today (T+1, also for T+0 funds: the conservative choice).
* sell: held -filled, sellable -(filled + working), cash +(deal value - fees).

Fees are estimated from the highest common retail rates (:func:`estimate_fee`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Optional

import attrs
import pendulum

from jqtrade.model.rules import board_of

#: Commission rate used for estimates: the highest rate common at retail brokers (万三).
COMMISSION_RATE = Decimal("0.0003")
#: Minimum commission per order (yuan).
MIN_COMMISSION = Decimal("5")
#: Transfer fee (过户费), both sides.
TRANSFER_RATE = Decimal("0.00001")
#: Stamp duty on sells (印花税).
STAMP_DUTY_RATE = Decimal("0.0005")

_LIMIT_PCT = {"star": Decimal("0.2"), "chinext": Decimal("0.2"), "bse": Decimal("0.3")}
_ZERO = Decimal(0)
_BEFORE_ANY = pendulum.datetime(1970, 1, 1)


def estimate_fee(value: Decimal, *, is_buy: bool) -> Decimal:
    """Fees of a fill or a reservation of ``value`` yuan, rounded up to the fen."""
    if value <= 0:
        return _ZERO
    fee = max(value * COMMISSION_RATE, MIN_COMMISSION) + value * TRANSFER_RATE
    if not is_buy:
        fee += value * STAMP_DUTY_RATE
    return fee.quantize(Decimal("0.01"), rounding="ROUND_CEILING")


def limit_up_estimate(code: str, last_price: float) -> Decimal:
    """A price a priced-at-best buy cannot exceed: the last price plus the board's limit."""
    try:
        board = board_of(code).value
    except Exception:  # noqa: BLE001 - an unknown code only loses the estimate
        board = ""
    return Decimal(repr(float(last_price))) * (1 + _LIMIT_PCT.get(board, Decimal("0.1")))


@attrs.frozen
class Mark:
    """One state of an order: what the broker said at ``at`` (or what was sent, unreported)."""

    at: pendulum.DateTime
    filled: int
    deal_value: Decimal
    working: int
    reported: bool = True


@attrs.frozen
class Effect:
    """What an order changes in the account, relative to the order never existing."""

    held: int = 0
    sellable: int = 0
    cash: Decimal = _ZERO  # change of available cash
    locked: Decimal = _ZERO  # cash reserved for working buys

    def minus(self, other: Effect) -> Effect:
        return Effect(
            self.held - other.held,
            self.sellable - other.sellable,
            self.cash - other.cash,
            self.locked - other.locked,
        )

    @property
    def is_zero(self) -> bool:
        return not (self.held or self.sellable or self.cash or self.locked)


_NONE = Effect()


@attrs.define
class _Track:
    code: str
    is_buy: bool
    reserve_price: Decimal
    marks: list[Mark] = attrs.field(factory=list)
    contribution: Effect = _NONE
    final: bool = False
    lent_face: Optional[Decimal] = None  # a reverse repo: each unit lends this much cash

    def effect(self, mark: Optional[Mark]) -> Effect:
        if mark is None:
            return _NONE
        if self.lent_face is not None:
            # The broker calls lending cash a sell, but it moves no shares: the cash is gone
            # until the loan matures, the working part frozen meanwhile.
            working = mark.working * self.lent_face
            return Effect(0, 0, -(mark.filled * self.lent_face) - working, working)
        if self.is_buy:
            fee = estimate_fee(mark.deal_value, is_buy=True)
            reserve = mark.working * self.reserve_price
            locked = reserve + estimate_fee(reserve, is_buy=True) if mark.working else _ZERO
            return Effect(mark.filled, 0, -(mark.deal_value + fee) - locked, locked)
        fee = estimate_fee(mark.deal_value, is_buy=False)
        return Effect(-mark.filled, -(mark.filled + mark.working), mark.deal_value - fee)

    def contained(self, as_of: Optional[pendulum.DateTime]) -> Optional[Mark]:
        """The newest reported state the snapshot at ``as_of`` already contains."""
        if as_of is None:
            return None
        found = None
        for mark in self.marks:
            if mark.at > as_of:
                break
            if mark.reported:
                found = mark
        return found

    def overlay(self, as_of: Optional[pendulum.DateTime]) -> Effect:
        return self.effect(self.marks[-1]).minus(self.effect(self.contained(as_of)))


class Overlay:
    """The effect of today's orders not yet in the snapshot, kept up to date incrementally.

    ``sent``/``update`` are O(1) per order change; ``rebase`` (a new snapshot) is O(orders
    still open or not yet contained). Orders that are final and fully contained are dropped.
    """

    def __init__(self) -> None:
        self._tracks: dict[str, _Track] = {}
        self._codes: dict[str, list[int]] = {}  # code -> [held, sellable]
        self._cash = _ZERO
        self._locked = _ZERO
        self._as_of: Optional[pendulum.DateTime] = None
        self.version = 0  # grows with every change, so views can be cached

    # -- feeding --------------------------------------------------------------------------

    def sent(
        self,
        order_id: str,
        *,
        code: str,
        is_buy: bool,
        amount: int,
        reserve_price: Decimal,
        at: pendulum.DateTime,
        lent_face: Optional[Decimal] = None,
    ) -> None:
        """An order ``order()`` just handed to the gate: reserve it at once."""
        track = _Track(code, is_buy, reserve_price, lent_face=lent_face)
        track.marks.append(Mark(at, 0, _ZERO, amount, reported=False))
        self._tracks[order_id] = track
        self._settle(track, order_id)

    def restored(
        self,
        order_id: str,
        *,
        code: str,
        is_buy: bool,
        reserve_price: Decimal,
        mark: Mark,
        lent_face: Optional[Decimal] = None,
    ) -> None:
        """An order known from before a restart: taken as contained in the first snapshot."""
        track = _Track(code, is_buy, reserve_price, lent_face=lent_face)
        track.marks.append(attrs.evolve(mark, at=_BEFORE_ANY))
        self._tracks[order_id] = track
        self._settle(track, order_id)

    def update(self, order_id: str, mark: Mark, *, final: bool) -> None:
        """A reported (or locally decided) new state of an order."""
        track = self._tracks.get(order_id)
        if track is None:
            return
        if track.marks and mark.at < track.marks[-1].at:
            # Reports of one order arrive in order; a report time from the broker's clock
            # that goes backwards is treated as not newer than the last one.
            mark = attrs.evolve(mark, at=track.marks[-1].at)
        track.marks.append(mark)
        track.final = final
        self._settle(track, order_id)

    def rebase(self, as_of: pendulum.DateTime) -> None:
        """A new complete snapshot, produced at ``as_of``, replaced the old one."""
        self._as_of = as_of
        for order_id, track in list(self._tracks.items()):
            self._settle(track, order_id)

    def clear(self) -> None:
        """A new trading day: no order of today is known yet."""
        self._tracks.clear()
        self._codes.clear()
        self._cash = self._locked = _ZERO
        self.version += 1

    def _settle(self, track: _Track, order_id: str) -> None:
        new = track.overlay(self._as_of)
        self._add(track.code, new.minus(track.contribution))
        track.contribution = new
        if len(track.marks) > 2:
            # States older than the contained one can never matter again.
            keep = track.contained(self._as_of)
            if keep is not None:
                index = track.marks.index(keep)
                del track.marks[:index]
        if track.final and new.is_zero and track.contained(self._as_of) is track.marks[-1]:
            del self._tracks[order_id]
        self.version += 1

    def _add(self, code: str, delta: Effect) -> None:
        if delta.is_zero:
            return
        entry = self._codes.setdefault(code, [0, 0])
        entry[0] += delta.held
        entry[1] += delta.sellable
        if entry == [0, 0]:
            del self._codes[code]
        self._cash += delta.cash
        self._locked += delta.locked

    # -- reading --------------------------------------------------------------------------

    @property
    def as_of(self) -> Optional[pendulum.DateTime]:
        return self._as_of

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def locked(self) -> Decimal:
        return self._locked

    def code(self, code: str) -> tuple[int, int]:
        """(held, sellable) deltas of ``code``."""
        entry = self._codes.get(code)
        return (entry[0], entry[1]) if entry else (0, 0)

    def codes(self) -> Mapping[str, tuple[int, int]]:
        return {code: (v[0], v[1]) for code, v in self._codes.items()}

    def working(self, code: str) -> int:
        """Unfilled shares of this code's open orders: + buys, - sells (for order_target)."""
        total = 0
        for track in self._tracks.values():
            if track.code == code and track.marks and track.lent_face is None:
                working = track.marks[-1].working
                total += working if track.is_buy else -working
        return total

    def __len__(self) -> int:
        return len(self._tracks)
