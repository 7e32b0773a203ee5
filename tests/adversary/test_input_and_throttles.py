"""The other partner as attacker, with hostile input and against the throttles (issue 13, items 7,
8 and 10; SPEC section 3 "Throttling", "Errors", the rules for names, and section 8).

Each test is written from the attacker's side: what they send, and what they must not get.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.authentication import issue_tokens
from accounts.models import User
from tests.accounts.client import CommittingAPIClient
from tests.accounts.paths import REGISTER
from tests.accounts.paths import RESET
from tests.accounts.paths import SIGN_IN
from tests.factories import PASSWORD
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.factories import make_invitation

ADMIN_LOGIN = "/admin/login/"

VICTIM = "victim@example.com"
ATTACKER_IP = "198.51.100.7"
VICTIM_IP = "203.0.113.20"
PROXY_IP = "10.0.0.2"


@pytest.fixture(autouse=True)
def _mid_window(mid_window: None) -> None:
    """Every test here counts requests in windows aligned to the clock (tests/conftest.py)."""


@pytest.fixture
def api() -> CommittingAPIClient:
    return CommittingAPIClient()


@pytest.fixture
def victim(db: None) -> User:
    user: User = UserFactory.create(email=VICTIM, display_name="Vic")
    return user


def set_rates(settings: Any, **rates: str) -> None:
    merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}


def set_proxies(settings: Any, count: int) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}


def guess(api: CommittingAPIClient, email: str = VICTIM, **headers: Any) -> int:
    headers.setdefault("REMOTE_ADDR", ATTACKER_IP)
    response = api.post(SIGN_IN, {"email": email, "password": "a-wrong-guess"}, **headers)
    return int(response.status_code)


def sign_in(api: CommittingAPIClient, email: str = VICTIM, ip: str = VICTIM_IP) -> int:
    response = api.post(SIGN_IN, {"email": email, "password": PASSWORD}, REMOTE_ADDR=ip)
    return int(response.status_code)


# --- Item 7: X-Forwarded-For, lockouts, the admin login ---


@pytest.mark.django_db
def test_a_made_up_x_forwarded_for_does_not_buy_more_guesses(
    api: CommittingAPIClient, victim: User, settings: Any
) -> None:
    """NUM_PROXIES=0 (the default): the header is the attacker's own writing, and ignored."""
    set_rates(settings, signin_email_ip="3/hour")

    answers = [guess(api, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 192.0.2.{n + 100}") for n in range(5)]

    assert answers == [401, 401, 401, 429, 429]


@pytest.mark.django_db
def test_a_made_up_x_forwarded_for_does_not_dodge_the_anonymous_throttle(
    api: CommittingAPIClient, settings: Any
) -> None:
    # The default throttle (accounts/throttling.py) reads its rates at each request.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "3/min",
        },
    }

    answers = [
        api.get("/api/v1/meta/", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in range(4)
    ]

    assert answers == [200, 200, 200, 429]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "rate", "expected", "victim_wrote"),
    [(1, "3/hour", [401, 401, 401, 429], ""), (2, "2/hour", [401, 401, 429], "192.0.2.1")],
    ids=["one proxy", "two proxies"],
)
def test_behind_proxies_the_address_the_first_proxy_appends_counts_not_what_the_client_wrote(
    api: CommittingAPIClient,
    victim: User,
    settings: Any,
    proxies: int,
    rate: str,
    expected: list[int],
    victim_wrote: str,
) -> None:
    """Behind two proxies, the second address from the right is the client."""
    set_proxies(settings, proxies)
    set_rates(settings, signin_email_ip=rate)

    def through_proxies(client_wrote: str, real_client: str) -> int:
        # What the client wrote (if anything), then what each proxy appends: the address it got
        # the request from (the client's for the first, the first proxy's for the second).
        hops = [client_wrote, real_client, *["10.1.1.1"] * (proxies - 1)]
        forwarded = ", ".join(hop for hop in hops if hop)
        return guess(api, REMOTE_ADDR=PROXY_IP, HTTP_X_FORWARDED_FOR=forwarded)

    answers = [through_proxies(f"192.0.2.{n}", ATTACKER_IP) for n in range(len(expected))]

    assert answers == expected
    # Another client behind the same proxies is someone else, with guesses of their own.
    assert through_proxies(victim_wrote, VICTIM_IP) == 401


@pytest.mark.django_db
@pytest.mark.parametrize("path", [REGISTER, RESET])
@pytest.mark.parametrize("victim_ip", [VICTIM_IP, ATTACKER_IP], ids=["elsewhere", "same-home"])
def test_requests_about_someones_address_never_lock_them_out_of_signing_in(
    api: CommittingAPIClient, victim: User, path: str, victim_ip: str
) -> None:
    """The abusive partner's tool of v1: ten registrations or resets for the victim's address."""
    body = {"email": VICTIM, "password": "an-attackers-passphrase", "display_name": "Mallory"}
    answers = [api.post(path, body, REMOTE_ADDR=ATTACKER_IP).status_code for _ in range(12)]
    assert answers[:10] == [202] * 10
    assert answers[-1] == 429  # the address's own bucket still stops a mail flood

    assert sign_in(api, ip=victim_ip) == 200


@pytest.mark.django_db
def test_guessing_from_one_address_never_locks_the_owner_out_from_theirs(
    api: CommittingAPIClient, victim: User
) -> None:
    """Default rates. The guesser hits their own (email, address) limit after ten, and however
    long they go on, their refused attempts fill nothing else."""
    answers = [guess(api) for _ in range(150)]

    assert answers[:10] == [401] * 10
    assert set(answers[10:]) == {429}
    assert sign_in(api, ip=VICTIM_IP) == 200


@pytest.mark.django_db
def test_a_guess_spread_over_many_addresses_is_stopped_per_email(
    api: CommittingAPIClient, victim: User
) -> None:
    """Default rates: a hundred failures an hour for one email, from anywhere, and no more."""
    answers = [guess(api, REMOTE_ADDR=f"198.51.{n // 200}.{n % 200}") for n in range(101)]

    assert answers[:100] == [401] * 100
    assert answers[100] == 429
    assert guess(api, REMOTE_ADDR="192.0.2.250") == 429
    assert guess(api, "someone.else@example.com", REMOTE_ADDR="192.0.2.250") == 401


@pytest.mark.django_db
def test_successful_sign_ins_never_count(
    api: CommittingAPIClient, victim: User, settings: Any
) -> None:
    set_rates(settings, signin_email_ip="2/hour", signin_ip="2/min", signin_email="2/hour")

    assert [sign_in(api) for _ in range(10)] == [200] * 10
    assert [guess(api, REMOTE_ADDR=VICTIM_IP) for _ in range(3)] == [401, 401, 429]


@pytest.mark.django_db
def test_a_guesser_at_the_limit_is_refused_even_with_the_right_password(
    api: CommittingAPIClient, victim: User
) -> None:
    for _ in range(10):
        guess(api)

    assert sign_in(api, ip=ATTACKER_IP) == 429
    assert sign_in(api, ip=VICTIM_IP) == 200


def admin_login(email: str, password: str, ip: str) -> Any:
    return Client().post(ADMIN_LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


THROTTLED_FORM = "Too many failed sign-in attempts"


@pytest.mark.django_db
def test_the_admin_login_is_throttled_like_the_api_sign_in() -> None:
    User.objects.create_superuser("boss@example.com", PASSWORD, display_name="Boss")

    answers = [admin_login("boss@example.com", "a-wrong-guess", ATTACKER_IP) for _ in range(11)]

    assert all(answer.status_code == 200 for answer in answers)  # the form again, no session
    assert all(THROTTLED_FORM not in answer.content.decode() for answer in answers[:10])
    assert THROTTLED_FORM in answers[10].content.decode()
    right = admin_login("boss@example.com", PASSWORD, ATTACKER_IP)
    assert right.status_code == 200
    assert THROTTLED_FORM in right.content.decode()
    assert "_auth_user_id" not in right.wsgi_request.session
    # The owner, from their own address, is not locked out.
    assert admin_login("boss@example.com", PASSWORD, VICTIM_IP).status_code == 302


@pytest.mark.django_db
def test_the_admin_login_shares_its_counters_with_the_api_and_says_nothing_of_the_account(
    api: CommittingAPIClient,
) -> None:
    User.objects.create_superuser("boss@example.com", PASSWORD, display_name="Boss")
    for _ in range(10):
        guess(api, "boss@example.com")
        guess(api, "nobody@example.com")

    known = admin_login("boss@example.com", PASSWORD, ATTACKER_IP).content.decode()
    unknown = admin_login("nobody@example.com", PASSWORD, ATTACKER_IP).content.decode()

    assert THROTTLED_FORM in known
    assert THROTTLED_FORM in unknown


@pytest.mark.django_db
def test_the_admin_login_ignores_a_made_up_x_forwarded_for() -> None:
    User.objects.create_superuser("boss@example.com", PASSWORD, display_name="Boss")
    for n in range(10):
        Client().post(
            ADMIN_LOGIN,
            {"username": "boss@example.com", "password": "a-wrong-guess"},
            REMOTE_ADDR=ATTACKER_IP,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )

    refused = Client().post(
        ADMIN_LOGIN,
        {"username": "boss@example.com", "password": PASSWORD},
        REMOTE_ADDR=ATTACKER_IP,
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )

    assert THROTTLED_FORM in refused.content.decode()


# --- Item 8: 500s a client could cause ---


def nested(depth: int, leaf: str = "1") -> str:
    """JSON arrays nested `depth` levels deep."""
    return "[" * depth + leaf + "]" * depth


def assert_standard_400(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    body: dict[str, Any] = response.json()
    assert body["type"] in {"validation_error", "client_error"}
    assert body["errors"]
    assert {"code", "detail", "attr"} <= set(body["errors"][0])
    return body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [nested(1000), '{"a":' * 1000 + "1" + "}" * 1000, nested(33)],
    ids=["arrays-1000", "objects-1000", "arrays-33"],
)
@pytest.mark.parametrize("path", [SIGN_IN, REGISTER, RESET])
def test_json_nested_too_deep_before_sign_in_is_a_400_not_a_500(
    api: CommittingAPIClient, path: str, body: str
) -> None:
    response = api.post(path, body, content_type="application/json")

    error = assert_standard_400(response)["errors"][0]
    assert error["code"] == "parse_error"
    assert "32" in error["detail"]


@pytest.mark.django_db
def test_json_nested_too_deep_from_a_signed_in_partner_is_a_400(
    victim: User, client_for: Any
) -> None:
    response = client_for(victim).patch(
        "/api/v1/me/", '{"display_name": ' + nested(900) + "}", content_type="application/json"
    )

    assert assert_standard_400(response)["errors"][0]["code"] == "parse_error"
    victim.refresh_from_db()
    assert victim.display_name == "Vic"


@pytest.mark.django_db
def test_json_nested_32_levels_is_still_read_and_brackets_in_strings_do_not_count(
    api: CommittingAPIClient,
) -> None:
    at_limit = '{"email": ' + nested(31, '"x"') + ', "password": "p"}'
    in_strings = {"email": "[" * 100 + "{" * 100, "password": "]" * 100}

    read = api.post(SIGN_IN, at_limit, content_type="application/json")
    quoted = api.post(SIGN_IN, in_strings, REMOTE_ADDR=VICTIM_IP)

    assert assert_standard_400(read)["errors"][0]["attr"] == "email"  # not a string: read it
    assert quoted.status_code == 401


LISTS = (
    "/api/v1/couples/",
    "/api/v1/invitations/",
    "/api/v1/sessions/",
    "/api/v1/commitments/",
    "/api/v1/checkins/",
    "/api/v1/removals/",
    "/api/v1/reports/",
    "/api/v1/away/",
    "/api/v1/me/devices/",
    "/api/v1/safety-alerts/",
    "/api/v1/me/consents/",
)
LISTS_WITH_SYNC = tuple(
    url
    for url in LISTS
    if not url.endswith(("/removals/", "/me/devices/", "/safety-alerts/", "/me/consents/"))
)
SYNC = "&updated_since=2020-01-01T00:00:00Z"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


FORGED_CURSORS = {
    "p=zz": b64(b"p=zz"),
    "position-a-number": b64(b"p=12345"),
    "position-a-month-13": b64(b"p=2026-13-45T00:00:00Z"),
    "position-naive": b64(b"p=2026-11-23 12:00:00"),
    "position-before-year-1": b64(b"p=0001-01-01 00:00:00%2B14:00"),
    "position-after-year-9999": b64(b"p=9999-12-31 23:59:59-14:00"),
    "position-nul": b64(b"p=2026-11-23%00"),
    "position-empty": b64(b"p="),
    "offset-huge": b64(b"o=99999999"),
    "offset-thousands-of-digits": b64(b"o=" + b"9" * 300),
    "offset-negative": b64(b"o=-1"),
    "offset-fraction": b64(b"o=1.5"),
    "reverse-2": b64(b"r=2"),
    "given-twice": b64(b"o=1&o=2"),
    "unknown-part": b64(b"x=1"),
    "not-key-value": b64(b"hello"),
    "not-ascii": b64("p=\u00e9".encode()),
    "not-base64": "%%%!!",
    "too-long": "QUFB" * 200,
}


def _forged_cursor_failures(client: Any, url: str, extra: str = "") -> list[str]:
    failures = []
    for name, cursor in FORGED_CURSORS.items():
        response = client.get(f"{url}?cursor={quote(cursor)}{extra}")
        errors = response.json().get("errors", []) if response.status_code < 500 else []
        if response.status_code != 400 or [(e["code"], e["attr"]) for e in errors] != [
            ("invalid_cursor", "cursor")
        ]:
            failures.append(f"{name}: {response.status_code} {response.content[:120]!r}")
    return failures


@pytest.mark.parametrize(
    ("actor", "url", "extra"),
    [("other_partner", url, "") for url in LISTS]
    + [("therapist", url, SYNC) for url in LISTS_WITH_SYNC],
)
def test_a_forged_cursor_on_any_list_or_sync_feed_is_a_400_invalid_cursor(
    world: Any, client_for: Any, actor: str, url: str, extra: str
) -> None:
    client = client_for(world.actor(actor))
    client.raise_request_exception = False

    assert _forged_cursor_failures(client, url, extra) == []


def test_every_paginated_list_of_the_schema_is_in_the_forged_cursor_table(db: None) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paginated = {
        path
        for path, operations in schema["paths"].items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    }

    assert paginated == set(LISTS)


@pytest.mark.parametrize(
    ("url", "extra"), [(url, "") for url in LISTS] + [(url, SYNC) for url in LISTS_WITH_SYNC]
)
def test_the_cursors_the_api_writes_still_work_both_ways(
    world: Any, client_for: Any, url: str, extra: str
) -> None:
    therapist = world.therapist
    for _ in range(2):
        make_couple(therapist=therapist)
    today = timezone.now().date()
    for n in range(4):
        TherapySessionFactory.create(
            couple=world.couple, starts_at=timezone.now() - dt.timedelta(days=n)
        )
        CommitmentFactory.create(
            couple=world.couple,
            owner=world.partner,
            created_by=therapist,
            due_on=today + dt.timedelta(days=n % 2),
        )
        CheckInFactory.create(
            couple=world.couple, author=world.partner, date=today - dt.timedelta(days=n)
        )
        make_invitation(couple=world.couple, invited_by=therapist, email=f"i{n}@example.com")
    client = client_for(therapist)
    expected = client.get(f"{url}?page_size=100{extra}").json()["results"]

    page = client.get(f"{url}?page_size=1{extra}").json()
    forward = list(page["results"])
    while page["next"]:
        page = client.get(page["next"]).json()
        forward += page["results"]
    backward = list(page["results"])
    while page["previous"]:
        page = client.get(page["previous"]).json()
        backward = page["results"] + backward

    assert [item["id"] for item in forward] == [item["id"] for item in expected]
    assert [item["id"] for item in backward] == [item["id"] for item in expected]


# --- Item 10: names that forge lines, turn text around or cannot be seen ---

FORGED_NAMES = {
    "newline": "Sam\nYour therapist says: call me at 555-0100",
    "carriage-return": "Sam\r\nBcc: someone@example.com",
    "tab": "Sam\tthe therapist",
    "escape": "Sam\x1b[2J",
    "line-separator": "Sam\u2028Your therapist says: hi",
    "paragraph-separator": "Sam\u2029hi",
    "right-to-left-override": "Sam\u202etxt.exe",
    "left-to-right-override": "\u202dSam",
    "embedding": "\u202bSam\u202c",
    "isolate": "Sam \u2067the therapist\u2069",
    "first-strong-isolate": "\u2068Sam\u2069",
    "rtl-mark": "Sam\u200f",
    "ltr-mark": "\u200eSam",
}
INVISIBLE_NAMES = {
    "zero-width-space": "\u200b",
    "zero-width-joiners": "\u200d\u200c\u200d",
    "word-joiner": "\u2060\u2060",
    "hangul-filler": "\u3164",
    "braille-blank": "\u2800\u2800",
    "combining-mark-alone": "\u0301",
    "bom": "\ufeff",
}
FINE_NAMES = {
    "accents": "Zoë Núñez-O'Brien",
    "emoji-family": "\U0001f469\u200d\u2764\ufe0f\u200d\U0001f468 Sam",
    "persian-zwnj": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "arabic": "\u0633\u0627\u0631\u0627",
    "hebrew": "\u05e9\u05e8\u05d4",
    "cjk": "\u674e\u534e",
    "initials": "A. & B.",
}


def error_pairs(response: Any) -> list[tuple[str, str | None]]:
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "code"),
    [(n, "invalid_characters") for n in FORGED_NAMES.values()]
    + [(n, "no_visible_characters") for n in INVISIBLE_NAMES.values()],
    ids=[*FORGED_NAMES, *INVISIBLE_NAMES],
)
def test_a_partner_cannot_take_a_display_name_that_forges_or_hides(
    victim: User, client_for: Any, name: str, code: str
) -> None:
    response = client_for(victim).patch("/api/v1/me/", {"display_name": name}, format="json")

    assert response.status_code == 400
    assert error_pairs(response) == [(code, "display_name")]
    victim.refresh_from_db()
    assert victim.display_name == "Vic"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", [FORGED_NAMES["newline"], FORGED_NAMES["right-to-left-override"], "\u200b"]
)
def test_registration_refuses_a_name_that_forges_or_hides(
    api: CommittingAPIClient, name: str
) -> None:
    body = {"email": "new@example.com", "password": PASSWORD, "display_name": name}

    response = api.post(REGISTER, body)

    assert response.status_code == 400
    assert [attr for _, attr in error_pairs(response)] == ["display_name"]
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "code"),
    [
        (FORGED_NAMES["newline"], "invalid_characters"),
        (FORGED_NAMES["right-to-left-override"], "invalid_characters"),
        (FORGED_NAMES["isolate"], "invalid_characters"),
        ("\u200b\u200b", "no_visible_characters"),
    ],
)
def test_a_partner_cannot_give_the_couple_a_name_that_forges_or_hides(
    client_for: Any, name: str, code: str
) -> None:
    couple, partner, _, _ = make_couple(therapist=False, name="Us")
    client = client_for(partner)

    renamed = client.patch(f"/api/v1/couples/{couple.id}/", {"name": name}, format="json")
    created = client.post("/api/v1/couples/", {"name": name}, format="json")

    assert renamed.status_code == 400
    assert error_pairs(renamed) == [(code, "name")]
    couple.refresh_from_db()
    assert couple.name == "Us"
    assert created.status_code == 400
    assert error_pairs(created) == [(code, "name")]


@pytest.mark.django_db
@pytest.mark.parametrize("name", FINE_NAMES.values(), ids=list(FINE_NAMES))
def test_names_in_any_script_with_emoji_and_joiners_are_still_accepted(
    victim: User, client_for: Any, name: str
) -> None:
    couple, partner, _, _ = make_couple(therapist=False)

    me = client_for(victim).patch("/api/v1/me/", {"display_name": name}, format="json")
    renamed = client_for(partner).patch(
        f"/api/v1/couples/{couple.id}/", {"name": name}, format="json"
    )

    assert me.status_code == 200
    assert me.json()["display_name"] == name
    assert renamed.status_code == 200
    assert renamed.json()["name"] == name


@pytest.mark.django_db
def test_a_couple_may_still_have_no_name(client_for: Any) -> None:
    couple, partner, _, _ = make_couple(therapist=False, name="Us")

    response = client_for(partner).patch(
        f"/api/v1/couples/{couple.id}/", {"name": ""}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["name"] == ""


# --- Item 10: what erasure and create_therapist leave behind ---


@pytest.mark.django_db
def test_after_erasure_the_admins_history_names_nobody(victim: User) -> None:
    """An erased partner's name and address must not outlive them in the admin's history."""
    staff = User.objects.create_superuser("staff@example.com", PASSWORD, display_name="Staff")
    couple, _, other, _ = make_couple(therapist=False)
    invitation, _ = make_invitation(
        couple=couple, invited_by=other, email="vic.private@example.com", accepted_by=victim
    )
    admin_client = Client()
    admin_client.force_login(staff)
    admin_client.post(
        "/admin/accounts/user/",
        {"action": "grant_therapist", "_selected_action": [str(victim.pk)]},
    )
    LogEntry.objects.log_actions(staff.pk, [invitation], CHANGE, change_message="Looked")
    assert LogEntry.objects.filter(object_repr__contains="Vic").exists()  # the attack's premise

    response = client_for_user(victim).delete("/api/v1/me/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    history = list(LogEntry.objects.values_list("object_repr", flat=True))
    assert len(history) == 2
    assert not any("Vic" in entry or "example.com" in entry for entry in history)
    assert "victim" not in " ".join(history)


def client_for_user(user: User) -> CommittingAPIClient:
    client = CommittingAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
    return client


@pytest.mark.django_db
def test_create_therapist_on_an_existing_account_ends_the_tokens_someone_else_holds(
    victim: User,
) -> None:
    """Whoever copied the account's tokens (a partner with the phone) loses them when an operator
    resets the password with create_therapist, as with any other reset."""
    stolen = issue_tokens(victim)
    thief = CommittingAPIClient()
    thief.credentials(HTTP_AUTHORIZATION=f"Bearer {stolen['access']}")
    assert thief.get("/api/v1/me/").status_code == 200

    call_command(
        "create_therapist",
        email=VICTIM,
        password="a-fresh-operator-passphrase",
        name="Dr. Vic",
        stdout=StringIO(),
    )

    assert thief.get("/api/v1/me/").status_code == 401
    refreshed = CommittingAPIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": stolen["refresh"]}
    )
    assert refreshed.status_code == 401
    victim.refresh_from_db()
    assert victim.is_therapist
    assert victim.check_password("a-fresh-operator-passphrase")


# --- Item 10: JWT_SIGNING_KEY_FALLBACKS (SPEC section 8) ---

OLD_KEY = "an-older-jwt-signing-key-still-accepted-while-apps-refresh-0123456789"
FORGER_KEY = "a-key-the-attacker-made-up-and-hopes-the-api-accepts-0123456789"


def forged(user: User, key: str, algorithm: str = "HS256") -> dict[str, str]:
    """The user's pair with its claims intact, re-signed with `key`."""
    pair = issue_tokens(user)
    return {
        kind: jwt.encode(
            jwt.decode(token, options={"verify_signature": False}), key, algorithm=algorithm
        )
        for kind, token in pair.items()
    }


@pytest.mark.django_db
@pytest.mark.parametrize("fallbacks", [[], [OLD_KEY]], ids=["no-fallback", "with-fallback"])
def test_a_token_signed_with_a_key_the_api_never_had_is_a_401(
    victim: User, settings: Any, fallbacks: list[str]
) -> None:
    settings.JWT_SIGNING_KEY_FALLBACKS = fallbacks
    pair = forged(victim, FORGER_KEY)
    me = CommittingAPIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    assert me.get("/api/v1/me/").status_code == 401
    refreshed = CommittingAPIClient().post("/api/v1/auth/token/refresh/", pair)
    assert refreshed.status_code == 401


@pytest.mark.django_db
def test_an_unsigned_token_is_a_401(victim: User) -> None:
    claims = jwt.decode(issue_tokens(victim)["access"], options={"verify_signature": False})
    me = CommittingAPIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt.encode(claims, '', algorithm='none')}")

    assert me.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_a_token_signed_with_a_fallback_key_still_works(victim: User, settings: Any) -> None:
    settings.JWT_SIGNING_KEY_FALLBACKS = [OLD_KEY]
    pair = forged(victim, OLD_KEY)
    me = CommittingAPIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    assert me.get("/api/v1/me/").status_code == 200
    assert CommittingAPIClient().post("/api/v1/auth/token/refresh/", pair).status_code == 200


def _settings_from(env: dict[str, str]) -> dict[str, Any]:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'num_proxies': settings.REST_FRAMEWORK['NUM_PROXIES'], "
        "'fallbacks': settings.JWT_SIGNING_KEY_FALLBACKS}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"NUM_PROXIES", *env}}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_the_environment_sets_no_proxy_as_0_and_fallback_keys_as_a_list() -> None:
    """NUM_PROXIES=0 must reach DRF as 0: DRF reads None as "trust all of X-Forwarded-For"."""
    assert _settings_from({"NUM_PROXIES": "0"}) == {"num_proxies": 0, "fallbacks": []}
    assert _settings_from({"NUM_PROXIES": "2", "JWT_SIGNING_KEY_FALLBACKS": "k1,k2"}) == {
        "num_proxies": 2,
        "fallbacks": ["k1", "k2"],
    }
