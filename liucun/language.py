"""Which language a request is answered in.

The console speaks Simplified Chinese unless the user chose English with the switch (a cookie); a
browser's Accept-Language does not change that, because the console is documented, tested and
screenshotted in Chinese and an operator on an English-language browser should not be surprised by a
half-familiar interface. The REST API is read by programs, whose authors ask for a language with
Accept-Language, so there Django's usual negotiation applies.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ConsoleLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith("/api/"):
            super().process_request(request)
            return
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _ in settings.LANGUAGES}
        translation.activate(chosen if chosen in supported else settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
