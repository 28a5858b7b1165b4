"""A short-lived memory of quotes, so that a callback asking for 300 codes makes one request.

:class:`TtlQuoteSource` wraps any source. A quote fetched at market time ``t`` is served again
for ``ttl`` seconds of market time (the ``now`` passed in, so a simulated clock works the
same way); codes asked for together that are missing or expired are fetched in one call, and
every quote a call brings back is kept, including codes nobody asked for (akshare's one call
returns the whole market). A code the source did not know is remembered as unknown for the
same ``ttl``. Bars are passed through untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional, Union

import pendulum

from jqtrade.clock import seconds_between
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_code
from jqtrade.data.source import AbsDataSource, TimeLike

__all__ = ["DEFAULT_TTL", "TtlQuoteSource"]

#: Seconds a quote is reused: about one refresh of the exchanges' snapshots (3 s).
DEFAULT_TTL = 3.0


class TtlQuoteSource(AbsDataSource):
    """``inner`` with quotes kept for ``ttl`` seconds; :attr:`requests` counts quote calls."""

    def __init__(self, inner: AbsDataSource, *, ttl: float = DEFAULT_TTL) -> None:
        super().__init__(calendar=inner.calendar)
        self.inner = inner
        self.ttl = float(ttl)
        self.requests = 0
        self._entries: dict[str, tuple[pendulum.DateTime, Optional[Quote]]] = {}
        self._last: dict[str, Quote] = {}  # the last quote ever seen, for stale answers

    @property
    def name(self) -> str:  # type: ignore[override]  # a class constant elsewhere; the inner source's here
        return self.inner.name

    @property
    def native_units(self) -> frozenset[BarUnit]:  # type: ignore[override]  # as for name
        return self.inner.native_units

    @property
    def live(self) -> bool:  # type: ignore[override]  # as for name
        return self.inner.live

    def __repr__(self) -> str:
        return f"<TtlQuoteSource {self.inner!r} ttl={self.ttl:g}s>"

    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        return self.inner.fetch_bars(code, unit, start, end)

    def get_bars(
        self,
        code: str,
        unit: Union[BarUnit, str],
        *,
        end: TimeLike,
        count: Optional[int] = None,
        start: Optional[TimeLike] = None,
    ) -> list[Bar]:
        return self.inner.get_bars(code, unit, end=end, count=count, start=start)

    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        return self._lookup(codes, now)

    def get_quotes(self, codes: Iterable[str], *, now: TimeLike) -> dict[str, Quote]:
        wanted = list(dict.fromkeys(to_code(code) for code in codes))
        return self._lookup(wanted, market_time(now)) if wanted else {}

    def peek(self, code: str, now: pendulum.DateTime) -> tuple[bool, Optional[Quote]]:
        """``(True, quote or None)`` when ``code`` was fetched less than ``ttl`` ago, else
        ``(False, the last quote ever fetched or None)``; never makes a request."""
        entry = self._entries.get(code)
        if entry is None:
            return False, None
        return self._fresh(code, now), entry[1] if entry[1] is not None else self._last.get(code)

    def forget(self) -> None:
        """Drop every kept quote."""
        self._entries.clear()
        self._last.clear()

    def _fresh(self, code: str, now: pendulum.DateTime) -> bool:
        entry = self._entries.get(code)
        if entry is None:
            return False
        age = seconds_between(entry[0], now)
        return 0 <= age < self.ttl

    def _lookup(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        missing = [code for code in codes if not self._fresh(code, now)]
        if missing:
            self.requests += 1
            got = self.inner.get_quotes(missing, now=now)
            for code, quote in got.items():
                self._entries[code] = (now, quote)
                self._last[code] = quote
            for code in missing:
                if code not in got:
                    self._entries[code] = (now, None)
        result = {}
        for code in codes:
            kept = self._entries[code][1]
            if kept is not None:
                result[code] = kept
        return result
