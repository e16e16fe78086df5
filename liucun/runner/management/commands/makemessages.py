"""Django's makemessages, also finding the strings the code translates through `_g` and `_lazy`.

Modules whose labels are lazy (`gettext_lazy as _`) translate sentences built at request time with
`gettext as _g`, and modules that translate at request time with `_` name the lazy one `_lazy`; xgettext
knows `gettext`, `gettext_lazy` and `_` but not those aliases, and without this their strings were never
extracted, so the console (Chinese by default) showed them in English.
liucun/tests/test_translations.py checks that no other alias is used.
"""

from __future__ import annotations

from django.core.management.commands import makemessages

# Names the code may give Django's translation functions (besides their own names, which xgettext knows).
EXTRA_KEYWORDS = ("_g", "_lazy")


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, *(f"--keyword={k}" for k in EXTRA_KEYWORDS)]
