"""The split of `make test` between its two databases lives in liucun/testing/suites.py."""

pytest_plugins = ["liucun.testing.suites"]
