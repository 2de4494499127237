"""The deploy tests' booting cluster, for the app pages."""

from tests.deploys.conftest import pve  # noqa: F401 - the fixture, shared
