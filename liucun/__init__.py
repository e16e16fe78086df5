"""Liucun: a self-hosted retention platform for WeChat Official Accounts."""

__version__ = "0.1.0"
