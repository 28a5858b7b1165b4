"""The task CLI's bench fixture (a runtime folder and a CLI runner) for the legacy scripts."""

import sys
from pathlib import Path

# tests/tasks' modules import their helpers as top-level modules, as pytest runs them there
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))

from tasks.test_cli_tasks import bench  # noqa: E402, F401 - re-exported as a fixture
