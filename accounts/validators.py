"""Validators for what people are called: display names, a couple's name, a device's name.

SPEC section 3: names reject control and bidirectional-override characters and need at least one
visible character. Names travel into other people's screens and plain-text emails: a newline
forges a line of a mail, a right-to-left override (U+202E) turns the rest of a line around,
and a name of zero-width characters is a member nobody can see.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

# Bidirectional embeddings, overrides and isolates, and the marks that steer them.
_BIDI_CONTROLS = frozenset(
    "\u061c"  # ARABIC LETTER MARK
    "\u200e\u200f"  # LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
# Letters and symbols that render as nothing: a name made of them alone is invisible.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Letters, numbers, punctuation and symbols show; marks, separators and format characters
# (zero-width space and joiners, which emoji and some scripts need inside a name) do not.
_VISIBLE_CATEGORIES = ("L", "N", "P", "S")
# Control characters (tab and newline included), and the line and paragraph separators that
# break a plain-text mail as a newline does.
_FORBIDDEN_CATEGORIES = ("Cc", "Zl", "Zp")


def _is_visible(char: str) -> bool:
    return unicodedata.category(char).startswith(_VISIBLE_CATEGORIES) and (
        char not in _BLANK_GLYPHS
    )


def validate_name(value: str) -> None:
    """Refuse control and bidirectional-control characters, and names with nothing visible.

    An empty name is left to the field (a couple's name may be empty; a display name may not).
    """
    if any(
        char in _BIDI_CONTROLS or unicodedata.category(char) in _FORBIDDEN_CATEGORIES
        for char in value
    ):
        raise ValidationError(
            "Names cannot contain control characters or text-direction overrides.",
            code="invalid_characters",
        )
    if value and not any(_is_visible(char) for char in value):
        raise ValidationError(
            "A name needs at least one visible character.", code="no_visible_characters"
        )
