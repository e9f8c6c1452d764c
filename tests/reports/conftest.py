"""The monitor's fixtures (a trained penguins project, copied per test) for the report tests."""

from tests.monitor.conftest import project, trained  # noqa: F401
