"""Hide credentials in any text the kit prints or stores (command lines, storage URLs)."""

from __future__ import annotations

import re

MASK = "***"


def _url_password(secret: str) -> re.Pattern[str]:
    """scheme://user:password@host (also a malformed scheme:/user:...@): the password runs
    to the LAST '@' that ``secret`` can reach, so one holding '@' or ':' is hidden whole."""
    return re.compile(rf"(?P<head>[A-Za-z][A-Za-z0-9+.-]*:/*[^\s:@/]*:)(?P<secret>{secret})(?P<tail>@)")


_PASSWORD_IN_TEXT = _url_password(r"\S*")  # within one word of free text
_PASSWORD_IN_ARGUMENT = _url_password(r".*")  # anywhere in one command-line argument
# ?password=... / &pwd=... in a URL's query string
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&;](?:password|passwd|pwd)=)(?P<secret>[^&;\s]*)", re.IGNORECASE)


def _mask(text: str, url_password: re.Pattern[str]) -> str:
    text = url_password.sub(lambda m: m["head"] + MASK + m["tail"], text)
    return _QUERY_PASSWORD.sub(lambda m: m["head"] + MASK, text)


def mask_secrets(text: str) -> str:
    """``text`` with every URL password replaced by ``***``.

    >>> mask_secrets("storage postgresql://u:SEC@RET@h:5432/db: timeout")
    'storage postgresql://u:***@h:5432/db: timeout'

    Text without a URL password comes back unchanged; text that merely looks like one
    is masked too (better one ``***`` too many than a leak).
    """
    return _mask(text, _PASSWORD_IN_TEXT)


def mask_command(argv: list[str]) -> str:
    """A command line (``sys.argv``) as one string with passwords masked, each argument
    on its own (so a password holding a space is hidden whole too)."""
    return " ".join(_mask(arg, _PASSWORD_IN_ARGUMENT) for arg in argv)
