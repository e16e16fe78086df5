"""A logging filter that keeps credentials out of log lines and keeps each line one line, whoever
formats them.

Logged values come from outside (a callback's URL path, an appid, a WeChat error message): a newline in
one would start a made-up log line, and other control characters can rewrite a terminal. They are
written as escapes (\\n, \\x1b) instead.
"""

from __future__ import annotations

import logging
import re

# access_token, secret, EncodingAESKey, passwords: in query strings, JSON and key=value forms.
_SECRET_VALUE = re.compile(
    r"(?i)(access_token|secret|appsecret|encoding_aes_key|encodingaeskey|password|token)"
    r"([\"']?\s*[=:]\s*[\"']?)([^&\s\"',}]+)"
)
# C0 controls but tab, DEL, C1 controls, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def redact(text: str) -> str:
    return _SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(0)) or f"\\x{ord(m.group(0)):02x}", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = escape_controls(redact(message))
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
