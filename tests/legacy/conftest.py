"""The task CLI's bench fixture (a runtime folder and a CLI runner) for the legacy scripts."""

from tasks.test_cli_tasks import bench  # noqa: F401 - re-exported as a fixture
