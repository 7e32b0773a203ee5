"""OpenAPI: the standardized error shape, with every status and code the API really answers."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ValidationErrorEnum
from drf_standardized_errors.openapi_utils import (
    get_flat_serializer_fields,
    get_serializer_fields_with_error_codes,
)
from inflection import camelize
from rest_framework import serializers

_BODY_METHODS = {"POST", "PUT", "PATCH"}
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _error_response_serializer(status_code: int, codes: list[str]) -> type[serializers.Serializer]:
    error = type(
        f"Error{status_code}Serializer",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=[(c, c) for c in codes]),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )
    return type(
        f"ErrorResponse{status_code}Serializer",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=ClientErrorEnum.choices),
            "errors": error(many=True),
        },
    )


ErrorResponse409Serializer = _error_response_serializer(
    409,
    [
        "conflict",
        "invalid_transition",
        "idempotency_in_flight",
        "partner_limit",
        # Invitations and membership ends (SPEC section 1).
        "pending_limit",
        "approval_pending",
        "approval_not_needed",
        "role_conflict",
        "last_therapist_on_hold",
    ],
)
ErrorResponse413Serializer = _error_response_serializer(413, ["request_too_large"])
ErrorResponse422Serializer = _error_response_serializer(422, ["idempotency_key_reused"])
# DRF's two codes, simplejwt's for a bearer token it refuses, and sign-in's own (accounts).
ErrorResponse401Serializer = _error_response_serializer(
    401,
    [
        "not_authenticated",
        "authentication_failed",
        "bad_authorization_header",
        "token_not_valid",
        "user_not_found",
        "user_inactive",
        "no_active_account",
    ],
)


def _validation_error_serializer(
    operation_id: str, codes_by_field: dict[str, set[str]]
) -> type[serializers.Serializer]:
    """`{"type": "validation_error", "errors": [{code, detail, attr}]}` for one operation.

    `attr` and `code` are plain strings, described with the fields and codes known here:
    drf-standardized-errors enumerates them, but its enums cannot hold list indexes
    (`attendance.1.participation` is not `attendance.INDEX.participation`), the API's own
    codes (`does_not_exist`, `incorrect_password`) or fields outside the body (the
    `Idempotency-Key` header, the `date` in a path, `?couple=`). SPEC section 2: codes may grow.
    """
    name = camelize(operation_id)
    fields = ", ".join(f"`{field}`" for field in sorted(codes_by_field))
    codes = ", ".join(f"`{code}`" for code in sorted(set().union(*codes_by_field.values())))
    item = type(
        f"{name}ValidationErrorItemSerializer",
        (serializers.Serializer,),
        {
            "code": serializers.CharField(
                help_text=(
                    "Why, for programs"
                    + (f"; the fields here answer {codes}" if codes else "")
                    + ". The API adds codes of its own (such as `does_not_exist`) and later "
                    "versions may add more: fall back to `detail`."
                )
            ),
            "detail": serializers.CharField(help_text="Why, for people."),
            "attr": serializers.CharField(
                allow_null=True,
                help_text=(
                    "The input at fault, nested names and list indexes joined by dots "
                    "(`attendance.1.participation`); `non_field_errors` or null for the request "
                    "as a whole." + (f" Inputs of this operation: {fields}." if fields else "")
                ),
            ),
            "Meta": type("Meta", (), {"ref_name": f"{name}ValidationErrorItem"}),
        },
    )
    return type(
        f"{name}ValidationErrorSerializer",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=ValidationErrorEnum.choices),
            "errors": item(many=True),
            "Meta": type("Meta", (), {"ref_name": f"{name}ValidationError"}),
        },
    )


class AutoSchema(StandardizedErrorsAutoSchema):
    """Documents 409 and 413 on writes, 422 on the POSTs that take an Idempotency-Key, 403 on
    every signed-in write, and 400 wherever the request carries input the API checks."""

    def _should_add_error_response(self, responses: dict[str, Any], status_code: str) -> bool:
        method = self.method.upper()
        if status_code == "403":
            # 403 is "you may see this but not change it" (SPEC section 3): any signed-in
            # write may answer it, whatever the view's permission classes say.
            if any(self.get_auth()) and method not in _SAFE_METHODS:
                return status_code not in responses
            return bool(super()._should_add_error_response(responses, status_code))
        if status_code == "409":
            return method != "GET" and super()._should_add_error_response(responses, status_code)
        if status_code == "413":
            return method in _BODY_METHODS and super()._should_add_error_response(
                responses, status_code
            )
        if status_code == "422":
            return method == "POST" and super()._should_add_error_response(responses, status_code)
        return bool(super()._should_add_error_response(responses, status_code))

    def _input_parameters(self) -> list[dict[str, Any]]:
        """Parameters the API validates: query and header ones, and paths that are not ids."""
        return [
            parameter
            for parameter in self._get_parameters()
            if parameter["in"] in ("query", "header")
            or (parameter["in"] == "path" and parameter["schema"].get("format") != "uuid")
        ]

    def _should_add_validation_error_response(self) -> bool:
        return bool(
            super()._should_add_validation_error_response()
            or self._has_body()
            or self._input_parameters()
        )

    def _has_body(self) -> bool:
        return bool(self._get_request_body())

    def _get_serializer_for_validation_error_response(self) -> Any:
        codes_by_field: dict[str, set[str]] = {}
        if self.method in _BODY_METHODS or not self._has_body():
            fields = self._determine_fields_with_error_codes()
        else:  # a body on DELETE (DELETE /me/ takes the password)
            body = cast(Any, self.get_request_serializer())
            fields = get_serializer_fields_with_error_codes(get_flat_serializer_fields(body))
        for field in fields:
            codes_by_field.setdefault(field.name, set()).update(field.error_codes)
        for parameter in self._input_parameters():
            codes_by_field.setdefault(parameter["name"], set())
        for name, codes in self._get_extra_validation_errors().items():
            codes_by_field.setdefault(name, set()).update(codes)
        if "cursor" in codes_by_field:
            # Checked by the paginator (config/api/pagination.py): 400, never 404 (SPEC 3).
            codes_by_field["cursor"] = {"invalid_cursor", "multiple_values"}
        return _validation_error_serializer(self.get_operation_id(), codes_by_field)

    def _should_add_http404_error_response(self) -> bool:
        # drf-standardized-errors documents 404 on every cursor-paginated list, for DRF's answer
        # to a bad cursor; this API answers 400 `invalid_cursor` (SPEC section 3), and a list
        # has nothing else to miss: an id in a filter gives an empty list.
        parameters = self._get_parameters()
        if any(p["name"] == "cursor" for p in parameters) and not any(
            p["in"] == "path" for p in parameters
        ):
            return False
        return bool(super()._should_add_http404_error_response())


class JWTAuthenticationScheme(SimpleJWTScheme):
    """Documents the project's JWT authentication (a simplejwt subclass) as bearer auth."""

    target_class = "accounts.authentication.JWTAuthentication"
