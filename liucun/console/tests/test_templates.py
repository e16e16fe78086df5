"""Console templates hold no inline script: the Content-Security-Policy (console/csp.py) would block it."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)


def test_no_template_has_an_inline_handler_or_script() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if HANDLER.search(line) or INLINE_SCRIPT.search(line):
                found.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert found == [], "use data-submit-on-change / data-confirm / data-check-all (console/behaviours.js)"
