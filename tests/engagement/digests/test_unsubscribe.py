"""One-click unsubscribe (RFC 8058) from the link in the digest's List-Unsubscribe header."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from accounts.models import User
from engagement.digests.unsubscribe import SALT
from engagement.digests.unsubscribe import unsubscribe_token
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import SITE_URL
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.builders import send_digests_at
from tests.engagement.digests.conftest import RefusingMailbox

pytestmark = pytest.mark.django_db

PATH = "/api/v1/digests/unsubscribe/"


def header_link(mailbox: RefusingMailbox, user: User) -> str:
    """The URL of the List-Unsubscribe header, as a mail client reads it."""
    message = mailbox.only(user.email).message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Long headers are folded; unfolded, the value is the URL in angle brackets (RFC 2369).
    match = re.fullmatch(r"<(.+)>", str(message["List-Unsubscribe"]).strip())
    assert match is not None
    return match.group(1)


@pytest.fixture
def digest_user(mailbox: RefusingMailbox) -> User:
    _, a, _, _ = reported_couple(therapist=False)
    send_digests_at(local(NEXT_MONDAY, 8))
    return a


def local_path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == SITE_URL
    return f"{parts.path}?{parts.query}"


def test_the_header_link_opens_a_confirmation_that_changes_nothing(
    mailbox: RefusingMailbox, digest_user: User
) -> None:
    url = header_link(mailbox, digest_user)

    response = Client().get(local_path(url))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert '<form method="post"' in body
    assert 'name="List-Unsubscribe" value="One-Click"' in body
    digest_user.refresh_from_db()
    assert digest_user.weekly_digest is True


def test_one_click_post_unsubscribes_without_sign_in_or_csrf(
    mailbox: RefusingMailbox, digest_user: User
) -> None:
    url = header_link(mailbox, digest_user)
    mail_client = Client(enforce_csrf_checks=True)

    response = mail_client.post(
        local_path(url),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "unsubscribed" in response.content.decode()
    digest_user.refresh_from_db()
    assert digest_user.weekly_digest is False
    # Again: the same answer, nothing more to change.
    again = mail_client.post(
        local_path(url),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert again.status_code == 200


def test_the_confirmation_form_unsubscribes(mailbox: RefusingMailbox, digest_user: User) -> None:
    page = Client().get(local_path(header_link(mailbox, digest_user))).content.decode()
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action is not None

    response = Client().post(
        PATH + action.group(1).replace("&amp;", "&"), {"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 200
    digest_user.refresh_from_db()
    assert digest_user.weekly_digest is False


def test_no_more_digests_after_unsubscribing(mailbox: RefusingMailbox, digest_user: User) -> None:
    Client().post(local_path(header_link(mailbox, digest_user)), {"List-Unsubscribe": "One-Click"})

    send_digests_at(local(NEXT_MONDAY + dt.timedelta(weeks=1), 8))

    assert len(mailbox.to(digest_user.email)) == 1


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "tampered",
        "other-salt",
        "not-a-user-id",
    ],
)
def test_a_bad_token_answers_400_and_changes_nothing(db: None, token: str) -> None:
    _, a, _, _ = reported_couple(therapist=False)
    good = unsubscribe_token(a.id)
    token = {
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "other-salt": signing.dumps(str(a.id), salt="accounts.something-else"),
        "not-a-user-id": signing.dumps("robert'); drop table", salt=SALT),
    }.get(token, token)

    get = Client().get(PATH, {"token": token})
    post = Client().post(f"{PATH}?token={token}", {"List-Unsubscribe": "One-Click"})

    assert get.status_code == 400
    assert get["Content-Type"].startswith("text/html")
    assert "does not work" in get.content.decode()
    assert post.status_code == 400
    a.refresh_from_db()
    assert a.weekly_digest is True


def test_the_token_of_a_deleted_account_answers_400(db: None) -> None:
    _, a, _, _ = reported_couple(therapist=False)
    token = unsubscribe_token(a.id)
    User.objects.filter(pk=a.pk).delete()

    assert Client().post(f"{PATH}?token={token}").status_code == 400
