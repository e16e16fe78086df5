"""WeChat's error codes in the operator's words, and the refusal that carries them.

The one table (SENTENCES): every code of the protocol fact sheet and every code wxsim answers, as a
clause that reads after "WeChat refused:". liucun/wechat/ stays Django-free and keeps WeChat's own
English errmsg; this Django-side module is where the words get translated.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from liucun.refusals import Refused, Text
from liucun.wechat.api.limits import LimitError
from liucun.wechat.apierrors import QuotaError, RetryableError, TokenError, WeChatAPIError

SENTENCES: dict[int, Promise] = {
    -1: _("WeChat is busy; try again in a minute"),
    40001: _("WeChat refused the account's credentials; an admin should check the AppSecret"),
    40002: _("the grant type is not valid"),
    40003: _("WeChat does not know this openid"),
    40004: _("WeChat does not accept this type of file"),
    40005: _("WeChat does not accept this file format"),
    40006: _("the file is too large or empty for WeChat"),
    40007: _("WeChat does not know this media or message id"),
    40008: _("WeChat does not accept this message type here"),
    40013: _("WeChat does not know the account's AppID"),
    40014: _("WeChat refused the account's access token"),
    40016: _("a menu has 1 to 3 buttons"),
    40017: _("a menu button has a type WeChat does not accept"),
    40018: _("a menu button name is too long (16 bytes at the top, 60 in a group)"),
    40019: _("a menu button key is longer than 128 bytes"),
    40020: _("a menu button URL is longer than 1024 bytes"),
    40023: _("a menu group has at most 5 buttons"),
    40029: _("the sign-in code is not valid or has expired"),
    40032: _("too many (or no) fans in one call"),
    40033: _("the request holds characters WeChat cannot read"),
    40037: _("WeChat does not know this template"),
    40092: _("the remark is longer than 30 characters"),
    40097: _("a value is out of WeChat's range (QR scene, lifetime or similar)"),
    40102: _("the industry is not one WeChat knows"),
    40125: _("the account's AppSecret is not valid; an admin should check it"),
    40130: _("a send to a list of fans needs at least 2 fans"),
    40163: _("the sign-in code was used already"),
    40164: _("this server's IP address is not on the account's whitelist in WeChat"),
    41001: _("the request had no access token"),
    42001: _("the account's access token expired"),
    43001: _("WeChat expected another HTTP method"),
    43004: _("the fan no longer follows the account"),
    43100: _("the account's industry was changed too recently; try again next month"),
    43101: _("the fan has not agreed to receive this notification"),
    44001: _("the file is empty"),
    44003: _("the article list is empty"),
    44004: _("the text is empty"),
    45001: _("the file is larger than WeChat allows"),
    45002: _("the content is longer than WeChat allows"),
    45003: _("a title is too long"),
    45004: _("a description or digest is too long"),
    45008: _("there are more articles than WeChat allows"),
    45009: _("the account has used up today's WeChat API quota; try again tomorrow"),
    45011: _("too many calls this minute; try again in a minute"),
    45015: _("the fan's 48-hour window is closed (or the fan unfollowed)"),
    45026: _("the account already has as many templates as WeChat allows"),
    45027: _("the template does not fit the account's industry"),
    45028: _("there is no mass-send quota left"),
    45029: _("the account has reached WeChat's limit of QR codes"),
    45047: _("the fan has received as many customer-service messages as this window allows"),
    45056: _("the account already has 100 tags, WeChat's limit"),
    45057: _("WeChat refuses to delete a tag with more than 100,000 fans"),
    45058: _("WeChat's own tags (0, 1, 2) cannot be changed"),
    45059: _("a fan would have more than 20 tags, WeChat's limit"),
    45065: _("a mass send with this client message id was made in the last 24 hours"),
    45066: _("the same mass send was retried within a minute; wait a minute"),
    45067: _("the client message id is longer than 64 bytes"),
    45072: _("the typing command is not valid"),
    45080: _("the typing indicator needs an action from the fan in the last 30 seconds"),
    45081: _("the typing indicator was shown less than 15 seconds ago"),
    45157: _("a tag with this name already exists"),
    45158: _("the name is longer than 30 bytes (10 Chinese characters)"),
    45159: _("no such tag in WeChat"),
    46003: _("there is no such menu"),
    46004: _("WeChat has no such user"),
    47001: _("WeChat could not read the request"),
    48001: _("the account lacks the WeChat permission for this (verification or account type)"),
    48002: _("the fan has turned off messages from the account"),
    48006: _("this month's quota resets are used up"),
    49003: _("the openid does not belong to this account"),
    53600: _("WeChat does not know this article id"),
    61500: _("the date is not written as WeChat expects (YYYY-MM-DD)"),
    61501: _("the date range is not one WeChat reports on"),
    65303: _("a conditional menu needs a default menu first"),
    65320: _("WeChat no longer matches menus by sex, region or language"),
    65400: _("the account has not enabled the new customer-service features"),
    65401: _("WeChat does not know this customer-service account"),
    65403: _("the customer-service nickname is not valid (16 characters at most)"),
    65404: _("the customer-service account is not valid (prefix@account)"),
    65405: _("the account has as many customer-service accounts as WeChat allows"),
    65406: _("this customer-service account exists already"),
    65413: _("the fan has no open customer-service session"),
    65414: _("another customer-service account is serving the fan"),
    65415: _("the customer-service account is offline"),
    76021: _("WeChat does not know this API path"),
    89503: _("an admin must confirm this mass send in WeChat first"),
    200012: _("the account has 50 subscription templates, WeChat's limit"),
    200014: _("WeChat does not know this template number"),
    200020: _("the template keywords are not valid"),
    200021: _("the scene description is not valid"),
}

UNREACHABLE = _("WeChat could not be reached or is busy (%(detail)s); try again in a minute")
NO_TOKEN = _("WeChat refused the account's credentials; an admin should check the AppSecret")
UNREADABLE = _("WeChat gave an answer Liucun does not understand (%(detail)s)")
UNKNOWN = _("WeChat refused with a code Liucun has no words for: %(detail)s")


def reason(exc: WeChatAPIError) -> Text:
    """The clause saying why, in the active language when rendered."""
    known = SENTENCES.get(exc.errcode) if exc.errcode is not None else None
    if known is not None:
        return known
    detail = exc.errmsg if exc.errcode is None else f"{exc.errcode} {exc.errmsg}"
    if isinstance(exc, RetryableError):
        template = UNREACHABLE
    elif isinstance(exc, TokenError):
        return NO_TOKEN
    else:
        template = UNREADABLE if exc.errcode is None else UNKNOWN
    return _Formatted(template, detail)


def status(exc: WeChatAPIError) -> int:
    """503: try later; 502: WeChat refuses the account itself; 400: over a limit checked before the call;
    409: WeChat refuses this change."""
    if isinstance(exc, RetryableError | QuotaError):
        return 503
    if isinstance(exc, TokenError):
        return 502
    if isinstance(exc, LimitError):
        return 400
    return 409


def code(exc: WeChatAPIError) -> str:
    return f"wechat.{exc.errcode}" if exc.errcode is not None else f"wechat.{type(exc).__name__}"


class WeChatRefused(Refused):
    """WeChat refused (or could not take) a call; nothing was changed here."""

    def __init__(self, exc: WeChatAPIError, what: Text | None = None) -> None:
        suffix = f" (errcode {exc.errcode})" if exc.errcode is not None else ""
        if what is None:
            super().__init__(
                _("WeChat refused: %(reason)s%(suffix)s."),
                {"reason": reason(exc), "suffix": suffix},
                code=code(exc),
                status=status(exc),
            )
        else:
            super().__init__(
                _("%(what)s: %(reason)s%(suffix)s."),
                {"what": what, "reason": reason(exc), "suffix": suffix},
                code=code(exc),
                status=status(exc),
            )
        self.wechat_error = exc
        self.retryable = isinstance(exc, RetryableError | QuotaError)


class _Formatted(Promise):
    """A translatable template with one detail filled in when rendered (the detail is WeChat's text)."""

    def __init__(self, template: Promise, detail: str) -> None:
        self.template, self.detail = template, detail

    def __str__(self) -> str:
        return str(self.template) % {"detail": self.detail}
