"""OpenAPI: the standardized error shape for the status codes drf-standardized-errors lacks."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers

_BODY_METHODS = {"POST", "PUT", "PATCH"}


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
    409, ["conflict", "invalid_transition", "idempotency_in_flight", "partner_limit"]
)
ErrorResponse413Serializer = _error_response_serializer(413, ["request_too_large"])
ErrorResponse422Serializer = _error_response_serializer(422, ["idempotency_key_reused"])


class AutoSchema(StandardizedErrorsAutoSchema):
    """Documents 409 and 413 on writes, and 422 on the POSTs that take an Idempotency-Key."""

    def _should_add_error_response(self, responses: dict[str, Any], status_code: str) -> bool:
        method = self.method.upper()
        if status_code == "409":
            return method != "GET" and super()._should_add_error_response(responses, status_code)
        if status_code == "413":
            return method in _BODY_METHODS and super()._should_add_error_response(
                responses, status_code
            )
        if status_code == "422":
            return method == "POST" and super()._should_add_error_response(responses, status_code)
        return bool(super()._should_add_error_response(responses, status_code))


class JWTAuthenticationScheme(SimpleJWTScheme):
    """Documents the project's JWT authentication (a simplejwt subclass) as bearer auth."""

    target_class = "accounts.authentication.JWTAuthentication"
