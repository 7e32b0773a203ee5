"""OpenAPI: the standardized error shape, with every status and code the API really answers."""

from __future__ import annotations

import json
import re
from typing import Any
from typing import cast

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.openapi_serializers import ValidationErrorEnum
from drf_standardized_errors.openapi_utils import get_flat_serializer_fields
from drf_standardized_errors.openapi_utils import get_serializer_fields_with_error_codes
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
        # Session feedback (SPEC section 2).
        "not_attended",
        "feedback_window_closed",
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


# --- Postprocessing: the schema as client generators read it (SPEC section 3) ---

_VERBS = {
    "list": "List",
    "create": "Create",
    "retrieve": "Retrieve",
    "partial_update": "Update",
    "update": "Put",
    "destroy": "Delete",
}
_ERROR_STATUSES = ("400", "401", "403", "404", "409", "413", "415", "422", "429")


def _header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": schema}


_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": _header(
        "The representation's tag, as the caller reads it; send it back in `If-None-Match` "
        "(weak comparison) to get a 304 while it has not changed.",
        type="string",
    ),
    "X-Request-ID": _header(
        "The request's id in the server's logs: quote it when reporting a problem.", type="string"
    ),
    "Content-Language": _header(
        "The language of the error `detail`s (`en` or `es`, from Accept-Language).", type="string"
    ),
    "Retry-After": _header("Seconds to wait before trying again.", type="integer"),
    "Idempotent-Replayed": _header(
        "`true` when this answer replays the first request with the same key.",
        type="string",
        enum=["true"],
    ),
}
# Response fields that only some readers receive (SPEC section 1): left optional.
_ONLY_SOME_READERS = {
    "Couple": {"safety_hold"},  # the therapist's view only
    "Session": {"therapist_notes"},  # therapists only
    "SafetyResource": {"phone", "url", "text"},  # each given only when configured
    "PartnerEntry": {"safe_contact"},  # the therapist's view only
}
# Objects whose keys depend on a discriminator beside them (a flag's evidence on its `code`):
# every key is optional, none required.
_KEYS_BY_VARIANT = {"FlagEvidence"}
_OPEN_ENUM = (
    "Open: later versions may add values, so a client keeps working with one it does not know."
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _camel(snake: str) -> str:
    head, *rest = snake.replace("-", "_").split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _is_action(path: str) -> bool:
    """A path past its resource (`/commitments/{id}/keep/`, `/reports/current/`)."""
    literal = [part for part in path.split("/") if part and not part.startswith("{")]
    return len(literal) > 3  # "api", "v1", the resource, then the action


def _operation_id(path: str, method: str, operation_id: str, methods: set[str]) -> str:
    """`commitments_keep_create` → `commitmentsKeep`, `checkins_update` (a PUT) → `checkinsPut`,
    `reports_current_retrieve` → `reportsCurrent`, `couples_list` → `couplesList`."""
    for suffix, verb in sorted(_VERBS.items(), key=lambda item: -len(item[0])):
        if operation_id.endswith(f"_{suffix}"):
            stem = operation_id[: -len(suffix) - 1]
            # A command (POST) or a read (GET) alone on its action path is named by the action.
            if _is_action(path) and suffix in ("create", "retrieve") and len(methods) == 1:
                return _camel(stem)
            return _camel(stem) + verb
    return _camel(operation_id)


def _name_operations(schema: dict[str, Any]) -> None:
    named: dict[str, str] = {}
    for path, method, operation in _operations(schema):
        methods = set(schema["paths"][path]) & {"get", "post", "put", "patch", "delete"}
        original = operation["operationId"]
        candidate = _operation_id(path, method, original, methods)
        if candidate in named.values():
            candidate = _camel(original)
        named[original] = candidate
        operation["operationId"] = candidate


def _validation_description(component: dict[str, Any] | None) -> str:
    """What a per-operation validation error said about its inputs and codes, as prose."""
    if not component:
        return ""
    item = component.get("properties", {}).get("errors", {}).get("items", {})
    properties = item.get("properties", {})
    parts = [
        properties.get(name, {}).get("description", "").split("; the fields here answer ")
        for name in ("code", "attr")
    ]
    codes = parts[0][1].split(". The API")[0] if len(parts[0]) > 1 else ""
    inputs = parts[1][0].split("Inputs of this operation: ")
    text = "Bad input: each error's `attr` names the input at fault."
    if len(inputs) > 1:
        text += f" Inputs: {inputs[1].rstrip('.')}."
    if codes:
        text += f" Codes of these inputs: {codes} (the API adds its own, such as `does_not_exist`)."
    return text


def _share_validation_errors(schema: dict[str, Any]) -> None:
    """One `ErrorResponse400` for every operation, instead of a copy per operation."""
    schemas = schema["components"]["schemas"]
    schemas["ValidationErrorItem"] = {
        "type": "object",
        "properties": {
            "code": {
                "type": "string",
                "description": "Why, for programs; never translated. Later versions may add "
                "codes: fall back to `detail`.",
            },
            "detail": {"type": "string", "description": "Why, for people, in Content-Language."},
            "attr": {
                "type": "string",
                "nullable": True,
                "description": "The input at fault, nested names and list indexes joined by dots "
                "(`attendance.1.participation`); `non_field_errors` or null for the request as "
                "a whole.",
            },
        },
        "required": ["attr", "code", "detail"],
    }
    schemas["ValidationError"] = {
        "type": "object",
        "properties": {
            "type": _ref("ValidationErrorEnum"),
            "errors": {"type": "array", "items": _ref("ValidationErrorItem")},
        },
        "required": ["errors", "type"],
    }
    schemas["ErrorResponse400"] = {
        "oneOf": [_ref("ValidationError"), _ref("ParseErrorResponse")],
        "discriminator": {
            "propertyName": "type",
            "mapping": {
                "validation_error": "#/components/schemas/ValidationError",
                "client_error": "#/components/schemas/ParseErrorResponse",
            },
        },
    }
    for _path, _method, operation in _operations(schema):
        response = operation["responses"].get("400")
        if response is None:
            continue
        content = response.get("content", {}).get("application/json", {})
        per_operation = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
        validation = schemas.get(per_operation, {}).get("oneOf", [{}])[0].get("$ref", "")
        described = _validation_description(schemas.get(validation.rsplit("/", 1)[-1]))
        response["description"] = described or "Bad input, or a body that is not JSON."
        content["schema"] = _ref("ErrorResponse400")


def _prune_statuses(schema: dict[str, Any]) -> None:
    """Only the statuses an operation can answer."""
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        checked_inputs = [
            p
            for p in parameters
            if p["in"] in ("query", "header")
            or (p["in"] == "path" and p.get("schema", {}).get("format") != "uuid")
        ]
        public = not any(requirement for requirement in operation.get("security", [{}]))
        if not has_body:
            responses.pop("415", None)
            responses.pop("413", None)
            if not checked_inputs:
                responses.pop("400", None)
        if not any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters):
            responses.pop("422", None)
        if public:
            # The sign-in, recovery and metadata endpoints hold nothing to conflict with or find.
            responses.pop("409", None)
            if not any(p["in"] in ("path", "query") for p in parameters):
                responses.pop("404", None)
        del path, method


def _document_headers(schema: dict[str, Any]) -> None:
    """304 and the headers every answer carries (SPEC section 3)."""
    schema["components"]["headers"] = _HEADERS
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        parameters = operation.setdefault("parameters", [])
        replays = any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters)
        json_read = method == "get" and "application/json" in responses.get("200", {}).get(
            "content", {}
        )
        if json_read:
            parameters.append(
                {
                    "in": "header",
                    "name": "If-None-Match",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "A tag from an earlier answer's `ETag` (`W/` accepted): "
                    "answers 304 while the representation is unchanged.",
                }
            )
            responses["304"] = {
                "description": "Not modified: the `If-None-Match` tag still matches; no body.",
                "headers": {
                    "ETag": _header_ref("ETag"),
                    "X-Request-ID": _header_ref("X-Request-ID"),
                },
            }
        for status_code, response in responses.items():
            headers = response.setdefault("headers", {})
            headers.setdefault("X-Request-ID", _header_ref("X-Request-ID"))
            if status_code in _ERROR_STATUSES:
                headers["Content-Language"] = _header_ref("Content-Language")
            if status_code == "429":
                headers["Retry-After"] = _header_ref("Retry-After")
            if status_code == "200" and json_read:
                headers["ETag"] = _header_ref("ETag")
            if replays and status_code in ("200", "201"):
                headers["Idempotent-Replayed"] = _header_ref("Idempotent-Replayed")
        del path


def _referenced(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found)


def _closure(schemas: dict[str, Any], roots: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        inner: set[str] = set()
        _referenced(schemas[name], inner)
        todo.extend(inner - seen)
    return seen


def _drop_unreferenced(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    roots: set[str] = set()
    _referenced(schema["paths"], roots)
    keep = _closure(schemas, roots)
    for name in list(schemas):
        if name not in keep:
            del schemas[name]


def _request_and_response_components(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    schemas = schema["components"]["schemas"]
    request_roots: set[str] = set()
    response_roots: set[str] = set()
    for _path, _method, operation in _operations(schema):
        _referenced(operation.get("requestBody", {}), request_roots)
        _referenced(operation.get("responses", {}), response_roots)
    return _closure(schemas, request_roots), _closure(schemas, response_roots)


def _shape_fields(schema: dict[str, Any]) -> None:
    """Response fields always present are required; request fields with a default are not, and
    say their default in words (generators at default options make a field with a `default`
    non-optional); a nullable enum is the enum or null, without a `NullEnum` alternative."""
    schemas = schema["components"]["schemas"]
    requests, responses = _request_and_response_components(schema)
    for name, component in schemas.items():
        properties: dict[str, Any] = component.get("properties", {})
        if name in _KEYS_BY_VARIANT:
            component.pop("required", None)
        elif name in responses and name not in requests and properties:
            component["required"] = sorted(set(properties) - _ONLY_SOME_READERS.get(name, set()))
        if name in requests:
            for field in properties.values():
                if "default" in field:
                    default = json.dumps(field.pop("default"))
                    note = f"Default: {default}."
                    field["description"] = f"{field.get('description', '')} {note}".strip()
        for field in properties.values():
            _nullable_reference(field, schemas)
        if "enum" in component:
            component["description"] = f"{component.get('description', '')}\n\n{_OPEN_ENUM}".strip()


def _nullable_reference(field: dict[str, Any], schemas: dict[str, Any]) -> None:
    """`nullable` next to a `$ref` says nothing in OpenAPI 3.0 (Redocly: nullable-type-sibling):
    a nullable enum is written out with `null` among its values, without drf-spectacular's
    `oneOf [X, NullEnum]`; a nullable object reference gets its `type`."""
    alternatives = [
        alt
        for alt in field.get("oneOf", field.get("allOf", []))
        if not alt.get("$ref", "").endswith("/NullEnum")
    ]
    if not field.get("nullable") or "type" in field or len(alternatives) != 1:
        return
    target = schemas.get(alternatives[0].get("$ref", "").rsplit("/", 1)[-1], {})
    if "enum" in target:
        field.pop("oneOf", None)
        field.pop("allOf", None)
        field["type"] = target.get("type", "string")
        field["enum"] = [*target["enum"], None]
        if "description" not in field and "description" in target:
            field["description"] = target["description"]
    else:
        field.pop("oneOf", None)
        field["allOf"] = alternatives
        field["type"] = target.get("type", "object")


_CURSOR_EXAMPLE = "https://api.duet.example/api/v1/couples/?cursor=cD0yMDI2"
_EXAMPLE_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z$")


def _example_value(value: Any) -> Any:
    """Examples as the API writes them: valid cursor URLs, millisecond timestamps."""
    if isinstance(value, dict):
        fixed = {key: _example_value(item) for key, item in value.items()}
        for name in ("next", "previous"):
            if isinstance(fixed.get(name), str) and "api.example.org" in fixed[name]:
                fixed[name] = _CURSOR_EXAMPLE
        return fixed
    if isinstance(value, list):
        return [_example_value(item) for item in value]
    if isinstance(value, str):
        return _EXAMPLE_TIMESTAMP.sub(r"\1.000Z", value)
    return value


def _fix_examples(schema: dict[str, Any]) -> None:
    """DRF's cursor example ends with a stray quote; give a URL that is one."""
    for component in schema["components"]["schemas"].values():
        for name in ("next", "previous"):
            field = component.get("properties", {}).get(name, {})
            if "example" in field and field.get("format") == "uri":
                field["example"] = _CURSOR_EXAMPLE
    for _path, _method, operation in _operations(schema):
        for carrier in [operation.get("requestBody", {}), *operation["responses"].values()]:
            for media in carrier.get("content", {}).values():
                for example in media.get("examples", {}).values():
                    if "value" in example:
                        example["value"] = _example_value(example["value"])


def _describe_operations(schema: dict[str, Any]) -> None:
    """A summary on every operation (from its id when the view gives none), and explicit
    `security: []` on those that need no sign-in."""
    for _path, _method, operation in _operations(schema):
        if not operation.get("summary"):
            words = re.sub(r"(?<!^)([A-Z])", r" \1", operation["operationId"]).lower()
            operation["summary"] = words[:1].upper() + words[1:]
        operation.setdefault("security", [])


def postprocess_schema(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular hook: the schema for client generators (docs/clients.md)."""
    _name_operations(result)
    _share_validation_errors(result)
    _prune_statuses(result)
    _document_headers(result)
    _shape_fields(result)
    _drop_unreferenced(result)
    _fix_examples(result)
    _describe_operations(result)
    return result
