from jqtrade import Context, LimitOrderStyle, Strategy


class Notifying(Strategy):
    """Sends its own message, then an order the checks refuse."""

    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.trade, "10:00")

    def trade(self, context: Context) -> None:
        self.notify("策略消息", "十点了")
        try:
            self.order("600000.XSHG", 150, LimitOrderStyle(10.0))  # not a whole lot: refused
        except Exception:  # noqa: BLE001 - the alert is what this strategy is for
            pass
