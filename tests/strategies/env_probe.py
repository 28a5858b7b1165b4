"""Fixture: imports a module that only `-e PYTHONPATH=...` makes importable, and reads FOO."""

import os

import jqt_env_probe_mod

from jqtrade import Context, Strategy


class EnvProbe(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.log.info("ENV FOO=%s MOD=%s", os.environ.get("FOO"), jqt_env_probe_mod.VALUE)
