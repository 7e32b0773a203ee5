"""The Django admin of engagement for staff, one module per area; importing it registers them."""

from engagement.admin import (  # noqa: F401 - imported to register their ModelAdmins
    audit,
    away,
    checkins,
    commitments,
    couples,
    digests,
    feedback,
    goals,
    reminders,
    reports,
    safety,
    sessions,
    sync,
    users,
)
