"""Every user-facing string of the console has its Simplified Chinese translation.

The catalogue is extracted afresh from a copy of the sources (Django's makemessages, as `make messages`
does) and merged with the committed one; any message left without a translation, or marked fuzzy by the
merge, fails the test with its text and where it is used. Tests and test support are not user-facing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


def _entries(po: str) -> list[tuple[list[str], str, str, bool]]:
    """(references, msgid, msgstr, fuzzy) of each entry, plural forms folded into msgstr."""
    entries = []
    for block in po.split("\n\n"):
        lines = block.strip().splitlines()
        refs = [x[3:] for x in lines if x.startswith("#: ")]
        fuzzy = any(x.startswith("#,") and "fuzzy" in x for x in lines)
        current, parts = "", {"msgid": "", "msgstr": ""}
        for line in lines:
            if line.startswith("msgid ") or line.startswith("msgid_plural "):
                current = "msgid"
                parts["msgid"] += line.split(" ", 1)[1].strip('"')
            elif line.startswith("msgstr"):
                current = "msgstr"
                parts["msgstr"] += line.split(" ", 1)[1].strip('"')
            elif line.startswith('"') and current:
                parts[current] += line.strip('"')
        if parts["msgid"]:
            entries.append((refs, parts["msgid"], parts["msgstr"], fuzzy))
    return entries


def test_every_console_string_is_translated(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext is missing; `make test` installs it (scripts/ensure-browser)")
    copy = tmp_path / "liucun"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "migrations", "*.mo")
    )
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans",
         "-i", "*/tests/*", "-i", "testing/*", "--no-obsolete"],
        cwd=copy, check=True, capture_output=True,
        env={"DJANGO_SETTINGS_MODULE": "liucun.settings", "PYTHONPATH": str(PACKAGE.parent),
             "LIUCUN_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    po = (copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    missing = [
        f"{msgid!r} ({', '.join(refs)[:120]})" + (" [fuzzy]" if fuzzy else "")
        for refs, msgid, msgstr, fuzzy in _entries(po)[1:]  # the first entry is the header
        if not msgstr or fuzzy
    ]
    assert missing == [], (
        f"{len(missing)} untranslated: run `make messages`, translate, commit:\n" + "\n".join(missing)
    )


def test_translation_functions_go_by_names_the_extraction_knows() -> None:
    """A string passed to gettext under an alias xgettext does not know is never extracted, so it stays
    English in the Chinese console (findings and notes of six reports did, until 2026-12-02)."""
    from liucun.runner.management.commands.makemessages import EXTRA_KEYWORDS

    known = {"_", *EXTRA_KEYWORDS}
    alias = re.compile(r"\b(?:n|p|np)?gettext(?:_lazy|_noop)? as (\w+)")
    strays = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in PACKAGE.rglob("*.py")
        if "tests" not in path.parts
        for name in alias.findall(path.read_text(encoding="utf-8"))
        if name not in known
    ]
    assert strays == [], f"aliases makemessages does not extract (add to EXTRA_KEYWORDS or rename): {strays}"
