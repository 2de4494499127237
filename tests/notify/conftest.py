"""The notification tests deploy apps: the deploy tests' booting cluster."""

from tests.deploys.conftest import pve  # noqa: F401 - the fixture
