"""The data-source adapters, one module each, found by name (``--source mootdx``).

Each adapter imports its library only when it is built, so jqtrade imports without any of
them; a missing library raises ``DataPackageMissingError`` naming the pip extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from jqtrade.data.errors import UnknownDataSourceError
from jqtrade.data.source import AbsDataSource

__all__ = ["SOURCES", "make_source"]

#: name -> "module:class" of each built-in adapter.
SOURCES = {
    "mootdx": "jqtrade.data.sources.mootdx:MootdxSource",
    "akshare": "jqtrade.data.sources.akshare:AkshareSource",
    "tushare": "jqtrade.data.sources.tushare:TushareSource",
    "jqdatasdk": "jqtrade.data.sources.jqdatasdk:JqdataSource",
    "xtdata": "jqtrade.data.sources.xtdata:XtdataSource",
}


def make_source(name: str, **options: Any) -> AbsDataSource:
    """Build the adapter called ``name`` with ``options`` (token=..., username=...)."""
    target = SOURCES.get(str(name).strip().lower())
    if target is None:
        raise UnknownDataSourceError(name, SOURCES)
    module_name, _, class_name = target.partition(":")
    factory = getattr(importlib.import_module(module_name), class_name)
    source: AbsDataSource = factory(**options)
    return source
