"""Regenerate ``docs/reference/options.md`` from the option classes.

``jqtrade.options.Options`` defines the core ``set_options`` keys (scheduler, account) and
each built-in gate's ``config_class`` defines that gate's keys (one section per gate, in
``jqtrade.gates.BUILTIN_GATES`` order); this page is derived from them so that the docs cannot
drift from the code. ``tests/test_docs.py`` fails when the
checked-in page differs from what this script writes.

Run from the repository root::

    python tools/gen_options_doc.py            # writes docs/reference/options.md
    python tools/gen_options_doc.py --check    # exits 1 if the page is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "reference" / "options.md"
COMMAND = "python tools/gen_options_doc.py"

#: group key in the core fields' metadata -> section title; order here is the order on the page.
GROUPS = {
    "scheduler": "调度选项",
    "account": "账户选项",
    "data": "行情数据选项",
}

#: built-in gate name -> (section title, one line about when its keys apply).
GATES = {
    "onequant": (
        "OneQuant 交易接口选项",
        '`trade_gate="onequant"`（默认）时可用：安信/国投 OneQuant DMA 文件单接口，见“OneQuant 交易接口”一章。',
    ),
    "fake": (
        "模拟交易接口（fake）选项",
        '`trade_gate="fake"`：内存中的模拟券商 `jqtrade.gates.fake.FakeTradeGate`，用于试跑和测试策略：'
        "以默认资金、没有持仓开始，订单在下一次同步时被受理，之后挂着不成交（要设定资金、持仓或让订单成交，"
        "请在测试中自己创建它并交给 Runtime）。没有 `set_options` 选项。",
    ),
    "qmt": (
        "miniQMT 交易接口（qmt）选项",
        '`trade_gate="qmt"` 时可用：通过 xtquant 连接本机已登录的 miniQMT，见“miniQMT（QMT）配置”一章。',
    ),
}

GATE_NOTE = """\
交易接口的选项由所选接口（选项 `trade_gate`）的配置类声明，和其他选项一样直接写在 `set_options` 中；
`set_options` 按所选接口检查它们：选了别的接口时，下面 OneQuant 的选项就不再可用。
自定义交易接口可以用同样的方式声明自己的选项，见[自定义交易接口](../custom-gate.md)。
"""

HEADER = """\
# 选项参考

<!-- 本页由 {command} 根据 jqtrade.options.Options 和内置交易接口的配置类生成，请勿手工修改。 -->

`set_options(...)` 只能在 `process_initialize` 中调用，可以调用多次，后设置的值覆盖先设置的值（合并，不是替换）。
账户一旦启动（`process_initialize` 中第一次使用账户时，或 `process_initialize` 结束后），账户和交易接口的选项就不能再改：
类写法中抛出 `AccountOptionLockedError`，函数式脚本中记录警告并保持原值。

类写法中，未知的选项名或不合法的值会立即抛出 `UnknownOptionError` / `OptionValueError`（都是 `ConfigError`），
错误信息会指出选项名、收到的值和允许的取值。函数式脚本沿用 jqtrade 1.0 的宽松读法：未知的选项记录警告
（并提示最接近的选项名）后交给交易接口（放在 `gate_options` 中）；`use_account=1`、`sync_interval="2"` 这类 1.0 能用的写法照样可用，
含义可能出人意料时记录警告。

选项的默认值也可以写在 TOML 配置文件的 `[options]` 表中，用 `jqtrade start_task --config 文件` 传入；
策略中的 `set_options` 优先。

```python
from jqtrade import Context, Strategy


class MyStrategy(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(
            use_account=True,
            misfire_grace_time=120,
            disabled_checks=["not_enough_cash"],
        )
```
"""

ALIAS_SECTION = """\
## 旧写法

为了让旧脚本无需修改即可运行，下列旧选项名仍然可用，效果与新名称完全相同：

| 旧名称 | 等同于 |
|---|---|
"""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: Any) -> str:
    """A default as the user would write it in ``set_options`` (lists, not tuples)."""
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (tuple, list)):
        inner = ", ".join(
            "(" + ", ".join(_literal(v) for v in item) + ")"
            if isinstance(item, tuple)
            else _literal(item)
            for item in value
        )
        return f"[{inner}]"
    if isinstance(value, (set, frozenset)):
        return "[" + ", ".join(_literal(v) for v in sorted(value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_quote(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _default(field: attrs.Attribute) -> str:  # type: ignore[type-arg]
    from jqtrade.options import field_default

    if field.default is attrs.NOTHING:
        return "必填"
    default = field_default(field)
    if default is None:
        return "不设置"
    return f"`{_literal(default)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(title: str, intro: str, fields: list[Any]) -> str:
    lines = [f"## {title}", ""]
    if intro:
        lines += [intro, ""]
    if not fields:
        return "\n".join(lines)
    lines += ["| 选项 | 类型 | 默认值 | 说明 |", "|---|---|---|---|"]
    for field in fields:
        lines.append(
            f"| `{field.name}` | {_cell(field.metadata['type'])} | {_default(field)} "
            f"| {_cell(field.metadata['doc'])} |"
        )
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole page, as it should be on disk."""
    from jqtrade.gates import BUILTIN_GATES, load_gate_class, options_config_class
    from jqtrade.gates.config import config_fields
    from jqtrade.options import ALIASES, CORE_FIELDS

    fields = list(CORE_FIELDS.values())
    unknown = sorted({f.metadata.get("group") for f in fields} - set(GROUPS), key=str)
    if unknown:
        raise SystemExit(f"选项分组 {unknown} 没有标题：请在 {__file__} 的 GROUPS 中补上")
    untitled = sorted(set(BUILTIN_GATES) - set(GATES))
    if untitled:
        raise SystemExit(f"内置交易接口 {untitled} 没有标题：请在 {__file__} 的 GATES 中补上")

    parts = [HEADER.format(command=COMMAND)]
    for group, title in GROUPS.items():
        rows = [f for f in fields if f.metadata.get("group") == group]
        if rows:
            parts.append(_table(title, "", rows))
    parts.append(GATE_NOTE)
    for name in BUILTIN_GATES:
        title, intro = GATES[name]
        declared = config_fields(options_config_class(load_gate_class(name)))
        parts.append(
            _table(title, intro, [f for f in declared.values() if f.name not in CORE_FIELDS])
        )
    alias_rows = "".join(f"| `{old}` | `{new}` |\n" for old, new in sorted(ALIASES.items()))
    parts.append(ALIAS_SECTION + alias_rows)
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成 docs/reference/options.md")
    parser.add_argument("--check", action="store_true", help="只检查页面是否最新，不写文件")
    args = parser.parse_args(argv)
    text = render()
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
    if args.check:
        if current != text:
            print(f"{OUTPUT} 已过期，请运行 {COMMAND}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(text.encode("utf-8"))
    print(f"已写入 {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
