"""The console's personas (two accounts, their staff and fans) serve the saved-filter tests too."""

from liucun.console.tests.conftest import two_accounts  # noqa: F401 - a fixture, found by name
