"""The deterministic bar sample of ``tools/gen_sample_bars.py``, importable from any test folder.

``tools`` is not a package: this loads the script once and re-exports what tests use.
"""

from __future__ import annotations

import importlib.util
import sys

from support import ROOT

_NAME = "gen_sample_bars"


def _load():  # type: ignore[no-untyped-def]
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, ROOT / "tools" / f"{_NAME}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module  # attrs classes in it look their module up
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


gen_sample_bars = _load()
write_sample = gen_sample_bars.write_sample
Sample = gen_sample_bars.Sample
