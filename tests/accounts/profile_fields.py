"""Profile values that registration and PATCH /me/ both refuse, naming the field: one table for
the one rule of a display name and a time zone."""

from __future__ import annotations

from typing import Any

BAD_PROFILE_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"display_name": ""}, "display_name"),
    ({"display_name": "   "}, "display_name"),
    ({"display_name": "x" * 81}, "display_name"),
    ({"display_name": "A\x00"}, "display_name"),
    ({"display_name": "Robin\x00"}, "display_name"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
]
