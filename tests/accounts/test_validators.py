"""The rule for names (SPEC section 3): no control or text-direction characters, something
visible. The API's use of it is tested from the attacker's side in tests/adversary/."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.validators import validate_name


@pytest.mark.parametrize(
    "name",
    [
        "Sam",
        "Zoë Núñez-O'Brien",
        "\u674e\u534e",
        "\u0633\u0627\u0631\u0627",
        "\U0001f469\u200d\u2764\ufe0f\u200d\U0001f468",  # an emoji sequence joined by ZWJ
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with a ZWNJ
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # tag flag
        "A. & B.",
        "",  # empty is the field's business (a couple's name may be empty)
    ],
)
def test_names_people_use_pass(name: str) -> None:
    validate_name(name)


@pytest.mark.parametrize(
    "char",
    [
        "\x00",
        "\t",
        "\n",
        "\r",
        "\x1b",
        "\x7f",
        "\x85",
        "\u2028",
        "\u2029",
        "\u061c",
        "\u200e",
        "\u200f",
        *[chr(c) for c in range(0x202A, 0x202F)],
        *[chr(c) for c in range(0x2066, 0x206A)],
    ],
)
def test_control_and_direction_characters_are_refused_anywhere(char: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_name(f"Sam{char}Lee")

    assert caught.value.code == "invalid_characters"


@pytest.mark.parametrize(
    "name", ["\u200b", "\u200c\u200d", "\u2060", "\ufeff", "\u3164", "\u2800", "\u0301", "\u00ad"]
)
def test_a_name_with_nothing_visible_is_refused(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_name(name)

    assert caught.value.code == "no_visible_characters"
