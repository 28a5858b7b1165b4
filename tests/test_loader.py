"""Loading strategy files: both forms, sys.path, encodings, and every failure's message."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jqtrade import Strategy, StrategyLoadError
from jqtrade.legacy import LegacyStrategy
from jqtrade.loader import load_strategy

# Loading a strategy file changes sys.path and sys.modules; tests/conftest.py undoes it.
pytestmark = pytest.mark.usefixtures("restore_sys_path")

STRATEGIES = Path(__file__).parent / "strategies"

CLASS_SOURCE = """\
from jqtrade import Strategy


class {name}(Strategy):
    def process_initialize(self, context):
        pass
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path, class_name=None) -> StrategyLoadError:
    with pytest.raises(StrategyLoadError) as info:
        load_strategy(path, class_name)
    assert str(path) in str(info.value)
    assert "无法加载策略文件" in str(info.value)
    return info.value


# --- the two forms -------------------------------------------------------------------------


def test_a_class_based_file_gives_an_instance_of_its_class():
    strategy = load_strategy(STRATEGIES / "sim_class.py")
    assert isinstance(strategy, Strategy) and not isinstance(strategy, LegacyStrategy)
    assert type(strategy).__name__ == "Several"


def test_a_function_script_gives_the_legacy_adapter():
    strategy = load_strategy(STRATEGIES / "sim_legacy.py")
    assert isinstance(strategy, LegacyStrategy)
    assert strategy.module.g == {"runs": 0}
    assert callable(strategy.module.run_daily)


def test_a_path_given_as_str_works(tmp_path):
    path = write(tmp_path, "one.py", CLASS_SOURCE.format(name="One"))
    assert type(load_strategy(str(path))).__name__ == "One"


def test_the_files_folder_goes_on_sys_path_for_sibling_imports():
    strategy = load_strategy(STRATEGIES / "sibling_user.py")
    assert str(STRATEGIES.resolve()) in sys.path
    # The helper module's own Strategy subclass is not a second candidate.
    assert type(strategy).__name__ == "UsesSibling"
    strategy.process_initialize(None)  # type: ignore[arg-type]
    assert strategy.helper_value == 42


def test_utf8_with_bom_and_chinese_comments(tmp_path):
    text = (
        "# 这是一个策略：开盘买入\n"
        + CLASS_SOURCE.format(name="中文策略")
        + "        # 注释：什么也不做\n"
    )
    path = tmp_path / "带BOM的策略.py"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert type(load_strategy(path)).__name__ == "中文策略"


def test_a_gbk_file_with_a_coding_cookie_loads(tmp_path):
    text = "# -*- coding: gbk -*-\n# 国投策略\n" + CLASS_SOURCE.format(name="Gbk")
    path = tmp_path / "gbk_cookie.py"
    path.write_bytes(text.encode("gbk"))
    assert type(load_strategy(path)).__name__ == "Gbk"


def test_a_gbk_file_without_a_cookie_is_refused_with_advice(tmp_path):
    path = tmp_path / "gbk_plain.py"
    path.write_bytes(("# 国投策略\n" + CLASS_SOURCE.format(name="Gbk")).encode("gbk"))
    error = load_error(path)
    assert "UTF-8" in str(error)


def test_with_the_class_named_among_several(tmp_path):
    path = write(
        tmp_path,
        "two.py",
        CLASS_SOURCE.format(name="Alpha")
        + "\n\n"
        + CLASS_SOURCE.format(name="Beta").split("\n", 2)[2],
    )
    strategy = load_strategy(path, "Beta")
    assert type(strategy).__name__ == "Beta"


# --- failures ------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    error = load_error(tmp_path / "nope.py")
    assert "不存在" in str(error)


def test_a_directory(tmp_path):
    error = load_error(tmp_path)
    assert "不是文件" in str(error)


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad_syntax.py", "x = 1\n\ndef process_initialize(context)\n    pass\n")
    error = load_error(path)
    assert error.lineno == 3
    assert f"{path}:3" in str(error)
    assert "语法错误" in str(error)


def test_indentation_error_names_the_line(tmp_path):
    path = write(tmp_path, "bad_indent.py", "def process_initialize(context):\npass\n")
    error = load_error(path)
    assert error.lineno == 2


def test_missing_module_names_file_line_and_module(tmp_path):
    path = write(tmp_path, "bad_import.py", "import os\n\nimport jqt_no_such_module_xyz\n")
    error = load_error(path)
    assert error.lineno == 3
    assert f"{path}:3" in str(error)
    assert "jqt_no_such_module_xyz" in str(error) and "ModuleNotFoundError" in str(error)


def test_an_exception_at_import_time_names_the_line(tmp_path):
    path = write(tmp_path, "raises.py", "a = 1\nb = a / 0\n")
    error = load_error(path)
    assert error.lineno == 2 and "ZeroDivisionError" in str(error)


def test_a_failed_import_leaves_no_half_module_behind(tmp_path):
    path = write(tmp_path, "half.py", "raise RuntimeError('x')\n")
    before = set(sys.modules)
    load_error(path)
    assert set(sys.modules) - before == set()


def test_neither_form(tmp_path):
    # (a JoinQuant ``initialize(context)`` alone is a legacy script: tests/test_legacy_names.py)
    path = write(tmp_path, "plain.py", "def main(context):\n    pass\n")
    error = load_error(path)
    assert "Strategy" in str(error) and "process_initialize" in str(error)


def test_two_classes_without_a_name_lists_both(tmp_path):
    path = write(
        tmp_path,
        "two.py",
        CLASS_SOURCE.format(name="Alpha")
        + "\n\n"
        + CLASS_SOURCE.format(name="Beta").split("\n", 2)[2],
    )
    error = load_error(path)
    assert "Alpha" in str(error) and "Beta" in str(error) and "--strategy-class" in str(error)


def test_a_class_name_not_in_the_file(tmp_path):
    path = write(tmp_path, "one.py", CLASS_SOURCE.format(name="Alpha"))
    error = load_error(path, "Gamma")
    assert "'Gamma'" in str(error) and "Alpha" in str(error)


def test_a_class_whose_constructor_fails(tmp_path):
    text = CLASS_SOURCE.format(name="Needy") + "\n    def __init__(self, required):\n        pass\n"
    path = write(tmp_path, "needy.py", text)
    error = load_error(path)
    assert "Needy" in str(error) and "TypeError" in str(error)


def test_load_errors_are_jqtrade_errors():
    from jqtrade import JqTradeError

    assert issubclass(StrategyLoadError, JqTradeError)
