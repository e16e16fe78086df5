"""Password hashing for the test suite.

Django's PBKDF2 costs 1,000,000 iterations (about half a second here) by design; the suite makes
hundreds of logins, which made this the largest single cost of `make test`. This hasher keeps Django's
algorithm and name, so a hash it writes verifies in every Liucun process a test starts (the live server
of a browser test), which upgrades it to the full cost at its first login as it would any old hash.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
