"""The admin of accounts: users with their role, therapist status granted or withdrawn, and
the sign-in records to read (never a password hash, token or token hash)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import PREFERENCE_FIELDS
from accounts.models import Device
from accounts.models import EmailVerification
from accounts.models import RefreshRotation
from accounts.models import User
from accounts.throttling import FailedSignIns
from accounts.throttling import client_ip
from accounts.validators import validate_name
from config.admin_base import ViewOnlyAdmin
from config.admin_base import person_search_fields


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login counts failed attempts in the same counters as the API's sign-in
    (SPEC section 3): the same limits, and neither door is a way around the other. A refused
    attempt reads the same whether or not the account exists."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed sign-in attempts. Please try again later.",
    }

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not email or not password or self.request is None:
            return super().clean()
        attempts = FailedSignIns(email=email, ip=client_ip(self.request))
        if attempts.reserve() is not None:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        cleaned = super().clean()  # a wrong password raises here, and stays counted
        attempts.forgive()
        return cleaned


admin.site.login_form = ThrottledAdminAuthenticationForm


class UserAdminForm(forms.ModelForm[User]):
    """Staff edit names under the same rules as the API (SPEC section 3)."""

    class Meta:
        model = User
        fields = ("display_name",)  # the admin passes its own `fields` on top

    def clean_display_name(self) -> str:
        display_name: str = self.cleaned_data["display_name"]
        validate_name(display_name)
        return display_name


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    form = UserAdminForm
    list_display = ("email", "display_name", "is_therapist", "is_staff", "verified", "date_joined")
    list_filter = ("is_therapist", "is_staff", "is_active", "weekly_digest")
    search_fields = ("email", "display_name")
    ordering = ("-date_joined",)
    date_hierarchy = "date_joined"
    # The password hash and the token generation are never edited by hand.
    fields = (
        "id",
        "email",
        "display_name",
        "is_therapist",
        "is_active",
        "is_staff",
        "timezone",
        *PREFERENCE_FIELDS,
        "email_verified_at",
        "date_joined",
        "last_login",
        "erased_at",
    )
    readonly_fields = ("id", "email_verified_at", "date_joined", "last_login", "erased_at")
    actions = ("grant_therapist", "withdraw_therapist")

    @admin.display(boolean=True, description="verified")
    def verified(self, user: User) -> bool:
        return user.is_email_verified

    @admin.action(description="Grant therapist status", permissions=["change"])
    def grant_therapist(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # SPEC section 1: a user becomes a therapist only when an admin grants it. An erased
        # account is no one any more and stays as it is.
        users = list(queryset.filter(is_therapist=False, erased_at__isnull=True))
        self._set_therapist_status(
            request,
            users,
            is_therapist=True,
            logged="Granted therapist status.",
            told="granted therapist status",
        )

    @admin.action(description="Withdraw therapist status", permissions=["change"])
    def withdraw_therapist(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset.filter(is_therapist=True))
        self._set_therapist_status(
            request,
            users,
            is_therapist=False,
            logged="Withdrew therapist status.",
            told="no longer have therapist status",
        )
        self.therapist_status_withdrawn(request, users)

    def _set_therapist_status(
        self,
        request: HttpRequest,
        users: list[User],
        *,
        is_therapist: bool,
        logged: str,
        told: str,
    ) -> None:
        """One UPDATE for the selected users, a history entry each, and one message."""
        User.objects.filter(pk__in=[u.pk for u in users]).update(
            is_therapist=is_therapist, updated_at=timezone.now()
        )
        for user in users:
            self.log_change(request, user, logged)
        self.message_user(request, f"{len(users)} user(s) {told}.", messages.SUCCESS)

    def therapist_status_withdrawn(self, request: HttpRequest, users: list[User]) -> None:
        """After therapist status was withdrawn from `users`: nothing more here. The admin of
        engagement (engagement/admin/users.py) adds what staff should know of their couples."""


@admin.register(EmailVerification)
class EmailVerificationAdmin(ViewOnlyAdmin[EmailVerification]):
    # The token's hash and a pending password's hash stay off the page.
    list_display = ("created_at", "user", "email", "purpose", "link_sent", "expires_at")
    list_filter = ("purpose",)
    list_select_related = ("user",)
    search_fields = ("email", *person_search_fields("user"))
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    fields = ("id", "user", "email", "purpose", "link_sent", "created_at", "expires_at")

    @admin.display(boolean=True, description="link sent")
    def link_sent(self, verification: EmailVerification) -> bool:
        return verification.token_hash is not None


@admin.register(RefreshRotation)
class RefreshRotationAdmin(ViewOnlyAdmin[RefreshRotation]):
    # Token ids are left out: staff need when a session was refreshed, not which token.
    list_display = ("rotated_at", "user", "expires_at")
    list_select_related = ("user",)
    search_fields = person_search_fields("user")
    date_hierarchy = "rotated_at"
    autocomplete_fields = ("user",)
    fields = ("user", "rotated_at", "expires_at")


@admin.register(Device)
class DeviceAdmin(ViewOnlyAdmin[Device]):
    # The token (and its digest) stays off the page: it is a way to reach the user's phone.
    list_display = ("created_at", "user", "platform", "name", "last_seen_at")
    list_filter = ("platform",)
    list_select_related = ("user",)
    search_fields = (*person_search_fields("user"), "name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    fields = ("id", "user", "platform", "name", "created_at", "last_seen_at")


# django-push-notifications registers admins for its own device tables, which hold raw tokens
# and stay empty here (accounts.Device holds the devices): keep them out of the admin.
def _unregister_library_devices() -> None:
    from push_notifications import models as push_models

    for name in ("APNSDevice", "GCMDevice", "WNSDevice", "WebPushDevice"):
        model = getattr(push_models, name, None)
        if model is not None and admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_library_devices()
