"""Helper module imported by sibling_user.py (found because the strategy's folder is on sys.path)."""

from jqtrade import Strategy

HELPER_VALUE = 42


class BaseWithHelpers(Strategy):
    """A Strategy subclass defined outside the strategy file: must not count as a candidate."""
