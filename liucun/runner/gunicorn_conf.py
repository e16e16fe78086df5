"""Gunicorn settings for `liucun serve`, read from the environment (docs/configuration.md)."""

from __future__ import annotations

import os

from liucun.envvars import env_int, env_str

bind = env_str("LIUCUN_BIND", "127.0.0.1:8000")
workers = env_int("LIUCUN_WEB_WORKERS", max(2, (os.cpu_count() or 1)), minimum=1, maximum=64)
threads = env_int("LIUCUN_WEB_THREADS", 8, minimum=1, maximum=256)
worker_class = "gthread"
# WeChat gives up after 5 s; a request still running after 30 s is stuck, not slow.
timeout = env_int("LIUCUN_WEB_TIMEOUT", 30, minimum=5)
graceful_timeout = 10
keepalive = 5
accesslog = "-" if env_str("LIUCUN_ACCESS_LOG", "") == "1" else None
errorlog = "-"
loglevel = env_str("LIUCUN_LOG_LEVEL", "info").lower()
wsgi_app = "liucun.wsgi:application"
proc_name = "liucun-web"
