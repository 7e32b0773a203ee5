"""The Django admin of engagement for staff, one module per area; importing it registers them."""

from engagement.admin import audit  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import away  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import checkins  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import commitments  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import couples  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import digests  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import feedback  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import goals  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import reminders  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import reports  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import safety  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import sessions  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import sync  # noqa: F401 - imported to register their ModelAdmins
from engagement.admin import users  # noqa: F401 - imported to register their ModelAdmins
