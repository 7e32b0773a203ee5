"""seed_synthetic writes realistic couples in bulk, deterministically for a seed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError
from django.core.management import call_command
from django.db.models import Count

from accounts.models import User
from engagement.models import Attendance
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Goal
from engagement.models import Membership
from engagement.models import SessionFeedback
from engagement.models import TherapySession

pytestmark = pytest.mark.django_db


def _seed(couples: int, weeks: int, seed: int = 7) -> str:
    out = StringIO()
    call_command("seed_synthetic", couples=couples, weeks=weeks, seed=seed, quiet=True, stdout=out)
    return out.getvalue()


def test_synthetic_couples_have_two_partners_a_therapist_and_weekly_history() -> None:
    output = _seed(couples=30, weeks=4)

    assert "Wrote 30 couples x 4 weeks" in output
    assert Couple.objects.count() == 30
    roles = Membership.objects.values("couple").annotate(n=Count("id"))
    assert {row["n"] for row in roles} == {3}
    assert User.objects.filter(is_therapist=True).count() == 1  # one per 50 couples
    assert TherapySession.objects.count() == 30 * 4
    assert Attendance.objects.count() == 30 * 4 * 2
    per_partner_week = CheckIn.objects.count() / (30 * 2 * 4)
    assert 2.0 < per_partner_week < 5.5
    per_partner_week = Commitment.objects.count() / (30 * 2 * 4)
    assert 1.0 <= per_partner_week <= 3.0
    assert set(Couple.objects.values_list("timezone", flat=True)) >= {"UTC", "Asia/Tokyo"}
    assert Commitment.objects.filter(renewed_from__isnull=False).exists()
    assert set(CheckIn.objects.values_list("visibility", flat=True)) == {
        "private",
        "therapist",
        "couple",
    }
    # v1.1: a goal per partner, feedback on every attended joint session.
    assert Goal.objects.count() == 30 * 2
    attended = Attendance.objects.filter(status__in=["attended", "late"]).count()
    assert SessionFeedback.objects.count() == attended
    assert set(Goal.objects.values_list("goal", flat=True)) <= {"work_on_it", "decide"}


def test_the_same_seed_writes_the_same_data_and_cannot_be_written_twice() -> None:
    _seed(couples=5, weeks=2, seed=3)
    first = sorted(CheckIn.objects.values_list("id", "date", "mood"))
    with pytest.raises(CommandError, match="exists already"):
        _seed(couples=5, weeks=2, seed=3)
    CheckIn.objects.all().delete()
    Commitment.objects.all().delete()
    TherapySession.objects.all().delete()
    Membership.objects.all().delete()
    Couple.objects.all().delete()
    User.objects.all().delete()
    _seed(couples=5, weeks=2, seed=3)
    assert sorted(CheckIn.objects.values_list("id", "date", "mood")) == first
