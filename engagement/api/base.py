"""What every engagement view shares: the signed-in caller, querysets that start from what the
caller may see (and from nothing while the schema is generated), the answer to a write read back
as the caller sees it, and the `?couple=` parameter."""

from __future__ import annotations

from abc import ABCMeta
from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar
from uuid import UUID

from django.db.models import Model
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework import serializers
from rest_framework import status
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts.models import User
from engagement.api.conditional import ConditionalListMixin
from engagement.api.conditional import ConditionalRetrieveMixin
from engagement.api.filters import READER_SYNC_ORDERING

if TYPE_CHECKING:
    from rest_framework.decorators import ViewSetAction

_M = TypeVar("_M", bound=Model)
_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


def caller(request: Request) -> User:
    """The signed-in user of a request; every engagement route requires authentication."""
    user = request.user
    assert isinstance(user, User)
    return user


def validated(serializer_class: type[BaseSerializer[Any]], request: Request, **context: Any) -> Any:
    """The request's body validated by `serializer_class`, which is given the request and
    `context`; else 400 naming the fields."""
    body = serializer_class(data=request.data, context={"request": request, **context})
    body.is_valid(raise_exception=True)
    return body.validated_data


def found(obj: _T | None) -> _T:
    """The object looked up, or 404: what the caller may not see does not exist for them."""
    if obj is None:
        raise NotFound()
    return obj


def put_answer(data: Any, *, created: bool) -> Response:
    """A PUT's answer: 201 when it created the resource, 200 when it replaced it."""
    return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def replaces(body: Any, answer: Any, **documentation: Any) -> Callable[[_F], _F]:
    """A PUT documented as `put_answer` answers it: the body `body` creates (201) or replaces
    (200) the caller's own object, read back in `answer`; `documentation` (summary,
    description, examples, ...) goes to `extend_schema` as it is."""
    return extend_schema(request=body, responses={200: answer, 201: answer}, **documentation)


def command(answer: Any, *, summary: str, description: str) -> Callable[[_F], ViewSetAction[_F]]:
    """A POST without a body on one object (`/things/{id}/<method name>/`), documented: it
    answers the object in the serializer `answer` (200), or nothing (204) when that is None."""
    code = status.HTTP_204_NO_CONTENT if answer is None else status.HTTP_200_OK

    def decorate(method: _F) -> ViewSetAction[_F]:
        routed = action(detail=True, methods=["post"])(method)
        return extend_schema(
            summary=summary, description=description, request=None, responses={code: answer}
        )(routed)

    return decorate


def generating_schema(view: object) -> bool:
    """drf-spectacular builds each view without a caller to read its querysets and serializers."""
    return bool(getattr(view, "swagger_fake_view", False))


def couple_query_param(request: Request) -> UUID:
    """`?couple=`, given once, a UUID; else 400 naming `couple`."""
    values = request.query_params.getlist("couple")
    if len(values) > 1:
        raise ValidationError(
            {"couple": [serializers.ErrorDetail("Give couple once.", code="multiple_values")]}
        )
    field = serializers.UUIDField()
    try:
        couple_id: UUID = field.run_validation(values[0] if values else empty)
        return couple_id
    except ValidationError as exc:
        raise ValidationError({"couple": exc.detail}) from None


class CallerViewMixin(GenericAPIView[Any], metaclass=ABCMeta):
    """`get_queryset()` starts from `visible_to(caller)`: a view only ever finds what its caller
    may see (SPEC section 1), and answers 404 for the rest. Put it first among the bases."""

    # The model of the rows, for the empty querysets of the schema: by default the model of the
    # view's ModelSerializer, named there once; a view answering in a plain Serializer names it.
    model: type[Model] | None = None

    @property
    def caller(self) -> User:
        return caller(self.request)

    @abstractmethod
    def visible_to(self, user: User) -> QuerySet[Any]:
        """What `user` may see of the view's rows (engagement/selectors/visibility.py)."""

    def get_queryset(self) -> QuerySet[Any]:
        if generating_schema(self):
            model = self.model or self.get_serializer_class().Meta.model  # type: ignore[attr-defined]
            return model._default_manager.none()
        return self.visible_to(self.caller)

    def read_back(self, pk: Any) -> Any:
        """The object just written, read again as the caller sees it (their own timestamps,
        SPEC section 1); 404 when a concurrent change took it from them in between (they left
        the couple in another request), never a 500."""
        return found(self.get_queryset().filter(pk=pk).first())

    def answer(self, pk: Any, code: int = status.HTTP_200_OK) -> Response:
        """A write's answer: the object read back (`read_back`) in the view's serializer."""
        return Response(self.get_serializer(self.read_back(pk)).data, status=code)


class CallerListViewSet(
    CallerViewMixin, ConditionalListMixin, mixins.ListModelMixin, viewsets.GenericViewSet[_M]
):
    """Only a list of what the caller may see, each page tagged (SPEC section 3); its order does
    not change with `updated_since`."""

    supports_sync = False


class VisibleViewSet(
    CallerViewMixin,
    ConditionalRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[_M],
):
    """List and read what the caller may see; a detail carries an ETag (SPEC section 3)."""


class ReaderViewSet(ConditionalListMixin, VisibleViewSet[_M]):
    """A resource each reader sees as their own: an ETag on every page of the list too, and
    with `updated_since` the list sorted by the reader's own clock (SPEC sections 1 and 3)."""

    sync_ordering = READER_SYNC_ORDERING
