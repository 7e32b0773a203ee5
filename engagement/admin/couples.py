"""Admin of couples, their members, status history and invitations."""

from __future__ import annotations

from typing import Any
from typing import cast

from django.contrib import admin
from django.contrib import messages
from django.db.models import Prefetch
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from config.admin_base import ViewOnlyAdmin
from config.admin_base import ViewOnlyTabularInline
from config.admin_base import person_search_fields
from engagement.exceptions import InvalidTransition
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Invitation
from engagement.models import Membership
from engagement.services.couples import CoupleChanges
from engagement.services.couples import couple_update
from engagement.services.invitations import invitation_revoke

# The couple's rows elsewhere in the admin, each a changelist filtered on the couple: its label,
# the model's name and the filter, the couple's foreign key but where the model has a plain id.
BY_COUPLE = "couple__id__exact"
RELATED_PAGES = (
    ("Reports", "weeklyreport", BY_COUPLE),
    ("Sessions", "therapysession", BY_COUPLE),
    ("Commitments", "commitment", BY_COUPLE),
    ("Check-ins", "checkin", BY_COUPLE),
    ("Invitations", "invitation", BY_COUPLE),
    ("Audit events", "auditevent", "couple_id"),
)


class MembershipInline(ViewOnlyTabularInline[Membership, Couple]):
    """Members join through invitations and leave through the app (couple_leave and
    couple_remove_member keep partner slots and write removals), never by hand here."""

    model = Membership
    fields = ("user", "role", "partner_slot", "shares_balance", "joined_at", "left_at")
    show_change_link = False  # the user links to their page; a membership has nothing more
    autocomplete_fields = ("user",)
    ordering = ("left_at", "joined_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user")


class StatusChangeInline(ViewOnlyTabularInline[CoupleStatusChange, Couple]):
    model = CoupleStatusChange
    fields = ("status", "changed_at")
    show_change_link = False
    verbose_name_plural = "status history"


@admin.register(Couple)
class CoupleAdmin(admin.ModelAdmin[Couple]):
    list_display = (
        "__str__",
        "status",
        "safety_hold",
        "members",
        "timezone",
        "checkin_target_per_week",
        "created_at",
    )
    list_filter = ("status", "safety_hold", "partners_see_balance")
    search_fields = ("name", *person_search_fields("memberships__user"))
    date_hierarchy = "created_at"
    inlines = (MembershipInline, StatusChangeInline)
    change_form_template = "admin/engagement/change_form_read_only_inlines.html"
    # Staff may change the settings; each change goes through couple_update, which records
    # status changes (the report pipeline skips paused weeks) and revokes invitations when a
    # couple ends.
    fields = ("id", *Couple.SETTINGS, "related", "created_at", "updated_at")
    readonly_fields = ("id", "related", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Couple]:
        # One query for the members of the whole page, whatever its size.
        active = Membership.objects.filter(left_at__isnull=True).select_related("user")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("memberships", queryset=active, to_attr="active_members"))
        )

    # Couples are created by their members in the app, and never deleted here: ending one
    # (status) keeps its history; erasing people is the accounts' erasure.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Couple | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Couple | None = None) -> bool:
        # An ended couple is read-only (docs/architecture.md), here as in the API.
        ended = obj is not None and obj.status == Couple.Status.ENDED
        return super().has_change_permission(request, obj) and not ended

    def save_model(
        self, request: HttpRequest, obj: Couple, form: ModelForm[Couple], change: bool
    ) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        couple_update(couple=obj, changes=cast(CoupleChanges, changes))

    @admin.display(description="members")
    def members(self, couple: Couple) -> str:
        seats: list[Membership] = getattr(couple, "active_members", [])
        partners = [m.user.display_name for m in seats if m.role == Membership.Role.PARTNER]
        therapists = [m.user.display_name for m in seats if m.role == Membership.Role.THERAPIST]
        parts = [", ".join(partners) or "no partner"]
        if therapists:
            parts.append("therapist " + ", ".join(therapists))
        return "; ".join(parts)

    @admin.display(description="see also")
    def related(self, couple: Couple) -> SafeString:
        if couple.pk is None:
            return SafeString("-")
        return format_html_join(
            " · ",
            '<a href="{}?{}={}">{}</a>',
            (
                (reverse(f"admin:engagement_{model}_changelist"), lookup, couple.pk, label)
                for label, model, lookup in RELATED_PAGES
            ),
        )


@admin.register(CoupleStatusChange)
class CoupleStatusChangeAdmin(ViewOnlyAdmin[CoupleStatusChange]):
    list_display = ("couple", "status", "changed_at")
    list_filter = ("status",)
    list_select_related = ("couple",)
    search_fields = ("couple__name",)
    date_hierarchy = "changed_at"
    autocomplete_fields = ("couple",)


class ActiveMembershipFilter(admin.SimpleListFilter):
    title = "membership"
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "current members"), ("no", "former members")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(left_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Membership)
class MembershipAdmin(ViewOnlyAdmin[Membership]):
    list_display = (
        "user",
        "couple",
        "role",
        "partner_slot",
        "shares_balance",
        "joined_at",
        "left_at",
    )
    list_filter = ("role", ActiveMembershipFilter, "shares_balance")
    list_select_related = ("user", "couple")
    search_fields = (*person_search_fields("user"), "couple__name")
    date_hierarchy = "joined_at"
    autocomplete_fields = ("user", "couple")


@admin.register(Invitation)
class InvitationAdmin(ViewOnlyAdmin[Invitation]):
    list_display = (
        "email",
        "couple",
        "role",
        "state",
        "invited_by",
        "accepted_by",
        "expires_at",
        "created_at",
    )
    list_filter = ("status", "role")
    list_select_related = ("couple", "invited_by", "accepted_by")
    search_fields = ("email", "couple__name", "invited_by__email")
    date_hierarchy = "created_at"
    autocomplete_fields = ("couple", "invited_by", "accepted_by")
    # The token's hash is left out: it is of no use to a person, only to an attacker's table.
    fields = (
        "id",
        "couple",
        "email",
        "role",
        "state",
        "invited_by",
        "expires_at",
        "accepted_by",
        "accepted_at",
        "created_at",
        "updated_at",
    )
    actions = ("revoke",)

    @admin.display(description="status", ordering="status")
    def state(self, invitation: Invitation) -> str:
        """What the invitation is now: a pending one past its expiry reads as expired."""
        return invitation.effective_status

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        # The page stays read-only; revoking is the one change, for those who may change them.
        return request.user.has_perm("engagement.change_invitation")

    @admin.action(description="Revoke the selected invitations", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        revoked = unchanged = refused = 0
        for invitation in queryset:
            was_revoked = invitation.status == Invitation.Status.REVOKED
            try:
                invitation = invitation_revoke(invitation=invitation)
            except InvalidTransition:
                refused += 1  # accepted: the person is a member now; remove them in the app
                continue
            if was_revoked:
                unchanged += 1
                continue
            revoked += 1
            self.log_change(request, invitation, "Revoked from the admin.")
        self.message_user(request, f"{revoked} invitation(s) revoked.", messages.SUCCESS)
        if unchanged:
            self.message_user(request, f"{unchanged} were already revoked.", messages.INFO)
        if refused:
            self.message_user(
                request,
                f"{refused} were already accepted and cannot be revoked; the member can be "
                "removed from the couple in the app.",
                messages.WARNING,
            )
