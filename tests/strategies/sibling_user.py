"""Fixture: a strategy that imports a helper module from its own folder."""

from jqt_sibling_helper import HELPER_VALUE, BaseWithHelpers

from jqtrade import Context


class UsesSibling(BaseWithHelpers):
    def process_initialize(self, context: Context) -> None:
        self.helper_value = HELPER_VALUE
