"""``GET``, ``POST``, ``DELETE /api/v1/subscriptions``: outbound webhook subscriptions, for admins and finance."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, Parameter, QueryParameter

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import requires_role
from commissions.core.paging import MAX_PAGE, BadCursor, id_cursor, next_link, paging_headers, read_id_cursor
from commissions.outbound import service
from commissions.outbound.queries import subscriptions
from commissions.outbound.schemas import (
    EXAMPLE_CREATED,
    EXAMPLE_IN,
    EXAMPLE_OUT,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)

CURSOR_TAG = "subscriptions"
admins_and_finance = requires_role("admin", "finance")


class SubscriptionsApiController(Controller):
    path = "/api/v1/subscriptions"
    guards = [admins_and_finance]
    tags = ["outbound webhooks"]

    @get(
        "/",
        sync_to_thread=True,
        summary="Outbound webhook subscriptions, by id (paged; never the secret)",
        response_headers=paging_headers("subscriptions"),
        responses={
            200: ResponseSpec(
                SubscriptionList,
                description="a page of subscriptions",
                examples=[Example(summary="one page", value={"items": [EXAMPLE_OUT], "next_cursor": None})],
            )
        },
    )
    def list_api(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"per page (1-{MAX_PAGE})")] = 100,
        cursor: Annotated[str | None, Parameter(description="`next_cursor` of the previous page (opaque)")] = None,
    ) -> Response[SubscriptionList]:
        try:
            after = read_id_cursor(CURSOR_TAG, cursor) if cursor else None
        except BadCursor as exc:
            raise InputProblem("cursor", str(exc).removeprefix("cursor: ")) from None
        rows = subscriptions(db, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        following = id_cursor(CURSOR_TAG, rows[-1].id or 0) if more else None
        headers: dict[str, str] = {"Cache-Control": "no-store"}
        if following:
            headers["Link"] = next_link(request.url.path, {"limit": str(limit)}, following)
            headers["X-Next-Cursor"] = following
        return Response(
            SubscriptionList(items=[SubscriptionOut.of(r) for r in rows], next_cursor=following), headers=headers
        )

    @post(
        "/",
        sync_to_thread=True,
        status_code=201,
        summary="Subscribe a URL to outbound events (the secret is in this answer only)",
        responses={
            201: ResponseSpec(
                SubscriptionCreated,
                description="the subscription and its secret, shown once",
                examples=[Example(summary="created", value=EXAMPLE_CREATED)],
            )
        },
    )
    def create_api(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: Annotated[SubscriptionIn, Body(examples=[Example(summary="deals and locked periods", value=EXAMPLE_IN)])],
    ) -> Response[SubscriptionCreated]:
        """400 naming the field for a bad URL or an unknown event type; 403 for `include_pay` unless finance."""
        settings = request.app.state["settings"]
        row, secret = service.add_subscription(
            request.app.state["engine"],
            url=data.url,
            events=data.events,
            include_pay=data.include_pay,
            by=principal,
            secret_key=settings.secret_key,
            allow_http=settings.outbound_allow_http,
        )
        out = SubscriptionCreated(**SubscriptionOut.of(row).model_dump(), secret=secret)
        return Response(out, status_code=201, headers={"Cache-Control": "no-store"})

    @delete(
        "/{subscription_id:int}",
        sync_to_thread=True,
        status_code=204,
        summary="Deactivate a subscription (nothing more is sent; its delivery log stays)",
    )
    def delete_api(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, subscription_id: FromPath[int]
    ) -> None:
        """404 for an unknown id; deactivating one that is already inactive changes nothing."""
        _deactivate(request, principal, subscription_id)

    @delete(
        "/",
        sync_to_thread=True,
        status_code=204,
        summary="Deactivate a subscription named by `?id=` (the same as `DELETE /api/v1/subscriptions/{id}`)",
    )
    def delete_by_query_api(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        subscription_id: Annotated[
            str | None, QueryParameter(name="id", description="the subscription's `id` (a number)")
        ] = None,
    ) -> None:
        """400 naming `id` when it is missing, repeated or not a number; 404 for an unknown id; deactivating one
        that is already inactive changes nothing."""
        # ``subscription_id`` documents the parameter; the query is read whole to refuse a repeated ``id``
        _deactivate(request, principal, _id_in_query(request.query_params.getall("id", [])))


def _id_in_query(values: list[str]) -> int:
    """The one ``?id=`` of a ``DELETE /api/v1/subscriptions?id=N``; a 400 naming ``id`` otherwise."""
    if not values or not values[0].strip():
        raise InputProblem("id", "name the subscription to deactivate: DELETE /api/v1/subscriptions?id=N")
    if len(values) > 1:
        raise InputProblem("id", "name one subscription: a single ?id=N")
    text = values[0].strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise InputProblem("id", f"{text[:40]!r} is not a subscription id (a number)")
    return int(text)


def _deactivate(request: Request[Any, Any, Any], principal: CurrentPrincipal, subscription_id: int) -> None:
    """Deactivate an outbound webhook subscription; 404 for an unknown id or one of another kind (a chat channel)."""
    if service.deactivate(request.app.state["engine"], subscription_id, by=principal, kinds=("webhook",)) is None:
        raise NotFoundException(f"no subscription {subscription_id}")
