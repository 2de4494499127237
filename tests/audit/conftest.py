"""The audit tests use the guests of tests/guests."""

from tests.guests.conftest import guests  # noqa: F401 - a shared fixture
