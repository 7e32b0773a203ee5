"""The languages Duet writes in (SPEC section 3: `en`, `es`) and a user's from a request."""

from __future__ import annotations

from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.models import User

LANGUAGES: tuple[str, ...] = tuple(User.Language.values)
DEFAULT_LANGUAGE = User.Language.EN.value


def language_from_accept(header: str) -> str:
    """The first of our languages the `Accept-Language` header asks for, by its q order; `en`
    when it names none (SPEC section 2: the registration's language, else `en`)."""
    if len(header) > 1000:
        return DEFAULT_LANGUAGE
    for tag, quality in parse_accept_lang_header(header):
        if quality <= 0:
            continue
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE
