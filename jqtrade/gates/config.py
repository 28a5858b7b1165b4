"""A gate's options as an attrs class: picked out of the strategy's options and validated.

Each field of a gate's ``config_class`` is one ``set_options`` key. Its converter or validator
raises :class:`jqtrade.errors.OptionValueError` naming the key; its ``metadata`` documents
it for the options reference: ``{"doc": "中文说明", "type": "str"}`` (``"legacy"`` may hold a
reader for jqtrade 1.0's looser spellings, as in :mod:`jqtrade.options`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from jqtrade.errors import GateConfigError

C = TypeVar("C")


def config_fields(config_class: type[Any]) -> dict[str, attrs.Attribute[Any]]:
    """The option fields of a gate's config class, by name (init fields only)."""
    return {field.name: field for field in attrs.fields(config_class) if field.init}


def config_from_options(config_class: type[C], options: Mapping[str, Any]) -> C:
    """Build ``config_class`` from the keys of ``options`` it declares; other keys are ignored.

    A missing required field is a :class:`GateConfigError` naming it.
    """
    fields = config_fields(config_class)
    values = {name: options[name] for name in fields if name in options}
    missing = [
        name
        for name, field in fields.items()
        if name not in values and field.default is attrs.NOTHING
    ]
    if missing:
        raise GateConfigError(
            f"交易接口缺少必填选项：{'、'.join(missing)}（请用 set_options 设置）"
        )
    return config_class(**values)
