"""The WSGI application served by `liucun serve`: WeChat callbacks on a fast path, the rest via Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
django_application = get_wsgi_application()

from liucun.inbound.fastpath import CallbackFastPath  # noqa: E402 - needs Django set up first

application = CallbackFastPath(django_application)
