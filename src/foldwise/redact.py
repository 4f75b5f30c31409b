"""Hide credentials in any text the kit prints or stores (command lines, storage URLs)."""

from __future__ import annotations

import re

MASK = "***"

#: a URL's start (``scheme://``, also malformed: ``scheme:/``, ``scheme//`` without the ':'),
#: then its user name and the ':' before the password: the whole user-info is masked
_HEAD = r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*(?::/*|//))(?P<user>[^\s:@/]*:)"


def _url_password(secret: str) -> re.Pattern[str]:
    """``<head><user>:<secret>@``: the password runs to the last '@' that ``secret`` can
    reach, so one holding '@', ':' or a space is hidden whole."""
    return re.compile(rf"{_HEAD}(?P<secret>{secret})(?P<tail>@)")


# free text: to the first '@' on the line, then on over the '@'s of the same word (so a
# password with a space is hidden, and 'u:SEC@RET@host' too, without eating the message)
_PASSWORD_IN_TEXT = _url_password(r"[^\n@]*(?:@[^\s@]*(?=@))*")
_PASSWORD_IN_ARGUMENT = _url_password(r".*")  # one command-line argument or URL: to its last '@'
# ?password=... / &pwd=... in a URL's query string
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&;](?:password|passwd|pwd)=)(?P<secret>[^&;\s]*)", re.IGNORECASE)

#: pieces of the passwords of URLs this process was given (see :func:`remember_url`), longest first
_KNOWN: list[str] = []


def _mask(text: str, url_password: re.Pattern[str]) -> str:
    for piece in _KNOWN:
        text = text.replace(piece, MASK + "@" if piece.endswith("@") else MASK)
    text = url_password.sub(lambda m: m["head"] + MASK + m["tail"], text)
    return _QUERY_PASSWORD.sub(lambda m: m["head"] + MASK, text)


def remember_url(url: str) -> None:
    """Mask the password of ``url`` in every later message of this process, also where a
    database driver quotes a piece of it: with ``u:SEC@RET@host`` a driver that ends the
    password at the first '@' reports host ``RET@host``, shown as ``***@host``."""
    found = _PASSWORD_IN_ARGUMENT.search(url)
    if not found:
        return
    password = found["secret"]
    pieces = {password} | {password.split("@", i)[-1] + "@" for i in range(1, password.count("@") + 1)}
    pieces = {p for p in pieces if len(p.removesuffix("@")) >= 3}  # 'a' would mask every 'a' in a message
    _KNOWN[:] = sorted(set(_KNOWN) | pieces, key=len, reverse=True)


def mask_secrets(text: str) -> str:
    """``text`` with the user-info (user name and password) of every URL that holds a
    password replaced by ``***``.

    >>> mask_secrets("storage postgresql://u:SEC@RET@h:5432/db: timeout")
    'storage postgresql://***@h:5432/db: timeout'

    Text without a URL password comes back unchanged; text that merely looks like one
    is masked too (better one ``***`` too many than a leak).
    """
    return _mask(text, _PASSWORD_IN_TEXT)


def mask_url(url: str) -> str:
    """One URL (or one command-line argument) with its user-info masked up to its last '@'."""
    return _mask(url, _PASSWORD_IN_ARGUMENT)


def mask_command(argv: list[str]) -> str:
    """A command line (``sys.argv``) as one string with passwords masked, each argument
    on its own (so a password holding a space is hidden whole too)."""
    return " ".join(mask_url(arg) for arg in argv)
