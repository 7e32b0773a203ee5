"""The User admin as engagement sees it: accounts' own admin, plus what staff should know of the
couples of users whose therapist status was withdrawn. Accounts knows nothing of couples, so
this lives here and replaces accounts' registration of User."""

from __future__ import annotations

from django.contrib import admin
from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.models import User
from engagement.models import Membership


class UserAdmin(AccountsUserAdmin):
    def therapist_status_withdrawn(self, request: HttpRequest, users: list[User]) -> None:
        # The status decides who may accept a therapist invitation; it does not take anyone
        # out of a couple (that writes removals and changes what partners see), so staff are
        # told where such users still sit, and decide.
        seats = Membership.objects.filter(
            user__in=[u.pk for u in users],
            role=Membership.Role.THERAPIST,
            left_at__isnull=True,
        )
        if seats.exists():
            url = reverse("admin:engagement_membership_changelist")
            self.message_user(
                request,
                format_html(
                    "{} of them still hold a therapist's place in {} couple(s), and still see "
                    'those couples as their therapist: <a href="{}?role__exact=therapist&amp;'
                    'current=yes&amp;q={}">see their memberships</a>. Remove them from a couple '
                    "in the app if they should no longer see it.",
                    seats.values("user").distinct().count(),
                    seats.values("couple").distinct().count(),
                    url,
                    users[0].email if len(users) == 1 else "",
                ),
                messages.WARNING,
            )


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserAdmin)
