"""A logging filter that keeps credentials out of log lines, whoever formats them."""

from __future__ import annotations

import logging
import re

# access_token, secret, EncodingAESKey, passwords: in query strings, JSON and key=value forms.
_SECRET_VALUE = re.compile(
    r"(?i)(access_token|secret|appsecret|encoding_aes_key|encodingaeskey|password|token)"
    r"([\"']?\s*[=:]\s*[\"']?)([^&\s\"',}]+)"
)


def redact(text: str) -> str:
    return _SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
