"""Fixture: an ``every_minute`` callback that raises on each of its first N firings.

N comes from ``JQT_RAISE_COUNT``. The exceptions vary: plain, chained, one whose ``str()``
itself raises, a real RecursionError, Chinese messages. After N it returns normally; a daily
job after the close and the stop hook log how many times the callback ran, so the test can
check that the loop kept firing it through all the failures.
"""

import os

from jqtrade import Context, Strategy


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() of this exception fails too")


def recurse(depth: int) -> int:
    return recurse(depth + 1) + 1


class Raising(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.limit = int(os.environ["JQT_RAISE_COUNT"])
        self.calls = 0
        self.run_daily(self.boom, "every_minute")
        self.run_daily(self.healthy, "after_close")

    def boom(self, context: Context) -> None:
        self.calls += 1
        if self.calls > self.limit:
            return
        kind = self.calls % 7
        if kind == 0:
            raise ValueError(f"第 {self.calls} 次回调：数值不对")
        if kind == 1:
            raise KeyError("不存在的键")
        if kind == 2:
            print(1 / 0)
        if kind == 3:
            raise BrokenStr()
        if kind == 4:
            recurse(0)
        if kind == 5:
            try:
                {}["x"]
            except KeyError as exc:
                raise RuntimeError("处理失败") from exc
        None.missing_attribute  # noqa: B018 - AttributeError on purpose

    def healthy(self, context: Context) -> None:
        self.log.info("HEALTHY %s calls=%d", context.current_dt.date(), self.calls)

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("END calls=%d", self.calls)
