"""Session feedback: each attending partner's own view of a session (SPEC section 2).

Read only by its author and the couple's therapists; never embedded in a session a partner
reads, and the other partner learns nothing of it, not even whether it exists.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from config.model_base import UUIDModel
from engagement.models.sessions import TherapySession

# Duet's own four items, each 0-10 (not a licensed instrument); alliance = their sum / 40.
FEEDBACK_ITEMS = ("understood", "helpful", "spoke_freely", "coming_back")


def _item() -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])


class SessionFeedback(UUIDModel):
    session = models.ForeignKey(TherapySession, on_delete=models.CASCADE, related_name="feedback")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_feedback"
    )
    understood = _item()
    helpful = _item()
    spoke_freely = _item()
    coming_back = _item()
    comment = models.TextField(max_length=1_000, blank=True, default="")
    submitted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ("session", "partner")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "partner"], name="feedback_once_per_partner_and_session"
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{item}__lte": 10}), name=f"feedback_{item}_range"
                )
                for item in FEEDBACK_ITEMS
            ),
        ]

    def __str__(self) -> str:
        return f"Feedback on {self.session_id}"
