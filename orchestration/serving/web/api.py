"""The JSON API (docs/serving.md "The API"). Every endpoint but /healthz needs a token (`Session-Token: …` or
`Authorization: Bearer …`); an organization token sees its organization only, whatever it asks for."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from orchestration.serving.web import queries
from orchestration.serving.web.params import (
    GRAINS,
    MAX_LIMIT,
    ApiError,
    Body,
    bad_request,
    check_order,
    check_range,
    parse_choice,
    parse_date,
    parse_interval,
    parse_limit,
    parse_time,
    text,
    utc_midnight_date,
)
from orchestration.serving.web.queries import Scope
from orchestration.serving.web.snapshot import Reader
from orchestration.serving.web.tokens import Token

TOKEN_HEADER = "Session-Token"


def json_answer(payload, reader: Reader | None = None, status: int = 200) -> Response:
    headers = {"X-Dwell-Snapshot": reader.snapshot.id} if reader is not None else None
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json", headers=headers)


_allowed_cache: dict[int, frozenset[str]] = {}


def reject_unknown_parameters(request: Request) -> None:
    """A query parameter the endpoint does not take, or one given twice, is a 400: a misspelt filter must not be
    silently ignored."""
    route = request.scope.get("route")
    if route is None:
        return
    allowed = _allowed_cache.get(id(route))
    if allowed is None:
        allowed = frozenset(_query_parameters(route.dependant))
        _allowed_cache[id(route)] = allowed
    keys = [key for key, _ in request.query_params.multi_items()]
    unknown = sorted(set(keys) - allowed)
    if unknown:
        raise bad_request(f"unknown parameter(s): {', '.join(repr(key)[:80] for key in unknown[:5])}; this endpoint "
                          f"takes: {', '.join(sorted(allowed)) or 'none'}")
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise bad_request(f"parameter(s) given more than once: {', '.join(repeated)}")


def _query_parameters(dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_parameters(dependency)
    return names


def presented_token(request: Request) -> str | None:
    token = request.headers.get(TOKEN_HEADER)
    if token:
        return token.strip()
    authorization = request.headers.get("Authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def api_token(request: Request) -> Token:
    presented = presented_token(request)
    if presented is None:
        raise ApiError(401, f"Authentication required: send a token as '{TOKEN_HEADER}: <token>' or "
                            "'Authorization: Bearer <token>' (`dwell tokens create` makes one)")
    token = request.app.state.tokens.verify(presented)
    if token is None:
        raise ApiError(401, "The token is not valid: it is unknown or was revoked")
    return token


TokenDependency = Annotated[Token, Depends(api_token)]
router = APIRouter(dependencies=[Depends(reject_unknown_parameters)])

OrgQuery = Annotated[str | None, Query(description="Organization id. An admin token sees every organization unless "
                                                   "it gives one; an organization token sees only its own.")]
StartTime = Annotated[str | None, Query(description="From this time (RFC 3339, e.g. 2026-10-01T00:00:00Z, or a date "
                                                     "YYYY-MM-DD for its UTC midnight), included")]
EndTime = Annotated[str | None, Query(description="To this time, excluded; not before start")]
Limit = Annotated[str | None, Query(description=f"Rows per page, 1 to {MAX_LIMIT} (default 100)")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page, as it was given")]


def scope_of(token: Token, org: str | None) -> Scope:
    return Scope.of(token.organization_id, token.admin, text("org", org))


def serve(request: Request, answer, token: Token | None = None, body: bytes = b"") -> Response:
    """Run `answer(reader)` on one publication and send its JSON. With a token, the encoded answer is kept for the
    publication's life (its cache), under what makes it: the token's scope, the path, the query and the body."""
    with request.app.state.serving.lease() as reader:
        key = None
        if token is not None:
            key = ("admin" if token.admin else ("org", token.organization_id), request.method, request.url.path,
                   request.url.query, body)
            cached = reader.snapshot.answers.get(key)
            if cached is not None:
                return Response(cached, media_type="application/json",
                                headers={"X-Dwell-Snapshot": reader.snapshot.id, "X-Dwell-Cache": "hit"})
        payload = answer(reader)
        encoded = payload.encoded if isinstance(payload, queries.RawJson) else orjson.dumps(payload)
        if key is not None:
            reader.snapshot.answers.put(key, encoded)
        return Response(encoded, media_type="application/json", headers={"X-Dwell-Snapshot": reader.snapshot.id})


# --- /healthz -------------------------------------------------------------------------------------------------------

class Health(BaseModel):
    status: str
    snapshot: str = Field(description="Which publication answered: its modification time (ns) and inode")
    published_at: str = Field(description="When the served copy's file was written (UTC)")
    built_at: str | None = Field(description="When the build that made it loaded its last events "
                                             "(max loaded_at of rpt_load_audit, UTC)")
    marts: int


@router.get("/healthz", response_model=Health, tags=["health"])
def healthz(request: Request) -> Response:
    """Whether a serving copy is served, and its build time. No token needed."""
    return serve(request, queries.health)


# --- Coder's activity report ----------------------------------------------------------------------------------------

class UserActivity(BaseModel):
    user_id: str
    duration: int = Field(description="Active time in the interval, nanoseconds")
    count: int = Field(description="Counted events in the interval")


class ActivityInterval(BaseModel):
    time: str = Field(description="The interval's start, RFC 3339 UTC")
    duration: int = Field(description="The interval's length in nanoseconds (the last one is clipped to end)")
    user_activity: list[UserActivity]


class ActivityUser(BaseModel):
    id: str
    name: str | None
    username: str = Field(description="dwell's user_id: dwell has no other handle")
    roles: list[str] = Field(description="The user's workspace roles (fct_workspace_memberships) in scope")
    total_count: int
    total_duration: int = Field(description="Nanoseconds")


class ActivityReport(BaseModel):
    activity: list[ActivityInterval]
    users: dict[str, ActivityUser]


@router.get("/api/private/metrics/activity", response_model=ActivityReport, tags=["metrics"])
def metrics_activity(
    request: Request, token: TokenDependency,
    start: Annotated[str | None, Query(description="A UTC midnight: 2026-10-01T00:00:00Z or 2026-10-01")] = None,
    end: Annotated[str | None, Query(description="A UTC midnight after start, excluded")] = None,
    category: Annotated[str | None, Query(description="any, or an activity category of the event catalog "
                                                       "(activity_categories: ide, login, app, tunnel, web_terminal)")] = None,
    interval: Annotated[str | None, Query(description="'N day(s)', 'N week(s)', 'N month(s)' or 'N year(s)', "
                                                       "e.g. '1 week', '90 day'")] = None,
    org: OrgQuery = None,
) -> Response:
    """Coder's usage metrics API: active users of a category from start to end, by interval, and each user's total.
    Buckets start at start + i × interval (months from start, clamped to the month's end), the last one ends at end;
    activity counts in the bucket of its UTC day. The numbers are those of dwell_activity_report over
    fct_user_activity_daily. The range is at most 1096 days (3 years)."""
    start_time = parse_time("start", start, required=True)
    end_time = parse_time("end", end, required=True)
    start_day = utc_midnight_date("start", start_time)
    end_day = utc_midnight_date("end", end_time)
    check_order(start_day, end_day, strict=True)
    check_range(start_day, end_day)
    step, unit = parse_interval(interval)
    chosen = text("category", category, required=True)
    scope = scope_of(token, org)
    return serve(request, lambda reader: queries.activity(reader, scope, start_day, end_day, step, unit, chosen), token)


# --- Session duration -----------------------------------------------------------------------------------------------

class SessionDurationRequest(BaseModel):
    start_date: str = Field(description="First UTC day, YYYY-MM-DD")
    end_date: str = Field(description="Last UTC day, YYYY-MM-DD, included; not before start_date")
    org: str | None = Field(None, description="Organization id (admin tokens)")


class AverageDuration(BaseModel):
    user_id: str
    average_duration: float = Field(description="Mean session duration in seconds")


class SessionDurations(BaseModel):
    results: list[AverageDuration]


@router.post("/api/session-duration", response_model=SessionDurations, tags=["sessions"],
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": SessionDurationRequest.model_json_schema()}}}})
async def session_duration(request: Request, token: TokenDependency) -> Response:
    """Each user's mean session duration, in seconds, over the sessions starting on a UTC day from start_date to
    end_date, both included."""
    raw = await request.body()
    body = Body.parse(raw, {"start_date", "end_date", "org"})
    start = parse_date("start_date", body.get("start_date"), required=True)
    end = parse_date("end_date", body.get("end_date"), required=True)
    check_order(start, end, names=("start_date", "end_date"))
    check_range(start, end, names=("start_date", "end_date"))
    scope = scope_of(token, body.get("org"))
    return await run_in_threadpool(serve, request, lambda reader: queries.session_duration(reader, scope, start, end),
                                   token, raw)


# --- Sessions -------------------------------------------------------------------------------------------------------

@router.get("/api/sessions", tags=["sessions"])
def list_sessions(
    request: Request, token: TokenDependency,
    user_id: Annotated[str | None, Query()] = None, workspace_id: Annotated[str | None, Query()] = None,
    org: OrgQuery = None, start: StartTime = None, end: EndTime = None, limit: Limit = None, cursor: Cursor = None,
) -> Response:
    """Sessions, newest start first (fct_sessions), filtered by user, workspace, organization and start time, by
    pages: pass next_cursor as cursor for the next page; null on the last one."""
    arguments = dict(user_id=text("user_id", user_id), workspace_id=text("workspace_id", workspace_id),
                     start=parse_time("start", start), end=parse_time("end", end), limit=parse_limit(limit),
                     cursor=cursor)
    scope = scope_of(token, org)
    return serve(request, lambda reader: queries.sessions(reader, scope, **arguments), token)


@router.get("/api/sessions/{session_id}", tags=["sessions"])
def get_session(request: Request, token: TokenDependency, session_id: str) -> Response:
    """One session with its events (fct_session_events), workspace sessions, focus periods (micro-sessions),
    metrics and alerts. Another organization's session is a 404."""
    session_id = text("session_id", session_id, required=True)
    scope = scope_of(token, None)
    return serve(request, lambda reader: queries.session(reader, scope, session_id), token)


# --- Users and workspaces -------------------------------------------------------------------------------------------

@router.get("/api/users", tags=["users"])
def list_users(
    request: Request, token: TokenDependency,
    email: Annotated[str | None, Query(description="Part of the email, any case")] = None,
    name: Annotated[str | None, Query(description="Part of 'first last', any case")] = None,
    company: Annotated[str | None, Query(description="The company, any case")] = None,
    email_domain: Annotated[str | None, Query(description="The email domain, any case")] = None,
    workspace_id: Annotated[str | None, Query(description="Members of this workspace")] = None,
    org: OrgQuery = None, limit: Limit = None, cursor: Cursor = None,
) -> Response:
    """Users (dim_users) by user_id, with filters, by pages."""
    arguments = dict(email=text("email", email), name=text("name", name), company=text("company", company),
                     email_domain=text("email_domain", email_domain), workspace_id=text("workspace_id", workspace_id),
                     limit=parse_limit(limit), cursor=cursor)
    scope = scope_of(token, org)
    return serve(request, lambda reader: queries.users(reader, scope, **arguments), token)


@router.get("/api/users/{user_id}", tags=["users"])
def get_user(request: Request, token: TokenDependency, user_id: str) -> Response:
    """One user and their workspaces."""
    user_id = text("user_id", user_id, required=True)
    scope = scope_of(token, None)
    return serve(request, lambda reader: queries.user(reader, scope, user_id), token)


@router.get("/api/workspaces", tags=["workspaces"])
def list_workspaces(
    request: Request, token: TokenDependency,
    name: Annotated[str | None, Query(description="Part of the name, any case")] = None,
    owner_user_id: Annotated[str | None, Query()] = None,
    org: OrgQuery = None, limit: Limit = None, cursor: Cursor = None,
) -> Response:
    """Workspaces (dim_workspaces) by workspace_id, with filters, by pages."""
    arguments = dict(name=text("name", name), owner_user_id=text("owner_user_id", owner_user_id),
                     limit=parse_limit(limit), cursor=cursor)
    scope = scope_of(token, org)
    return serve(request, lambda reader: queries.workspaces(reader, scope, **arguments), token)


@router.get("/api/workspaces/{workspace_id}", tags=["workspaces"])
def get_workspace(request: Request, token: TokenDependency, workspace_id: str) -> Response:
    """A workspace's summary: its row, its members and its workspace sessions per day."""
    workspace_id = text("workspace_id", workspace_id, required=True)
    scope = scope_of(token, None)
    return serve(request, lambda reader: queries.workspace(reader, scope, workspace_id), token)


@router.get("/api/organizations", tags=["users"])
def list_organizations(request: Request, token: TokenDependency) -> Response:
    """The organizations the token sees, with their user and workspace counts."""
    scope = scope_of(token, None)
    return serve(request, lambda reader: queries.organizations(reader, scope), token)


# --- Reports and the board ------------------------------------------------------------------------------------------

@router.get("/api/reports/periods", tags=["reports"])
def period_report(
    request: Request, token: TokenDependency,
    grain: Annotated[str | None, Query(description="day, week, month or lifetime (default day)")] = None,
    start: Annotated[str | None, Query(description="First period start, YYYY-MM-DD, included")] = None,
    end: Annotated[str | None, Query(description="Periods starting before this day")] = None,
    email: Annotated[str | None, Query()] = None, company: Annotated[str | None, Query()] = None,
    email_domain: Annotated[str | None, Query()] = None, org: OrgQuery = None,
) -> Response:
    """The period report (rpt_period_summary; filtered, the sums of rpt_user_period_activity over the matching
    users) per day, week, month or lifetime, in reporting_time_zone."""
    arguments = dict(grain=parse_choice("grain", grain, GRAINS, "day"), start=parse_date("start", start),
                     end=parse_date("end", end), email=text("email", email), company=text("company", company),
                     email_domain=text("email_domain", email_domain))
    check_order(arguments["start"], arguments["end"])
    check_range(arguments["start"], arguments["end"])
    scope = scope_of(token, org)
    return serve(request, lambda reader: queries.period_report(reader, scope, **arguments), token)


@router.get("/api/board", tags=["reports"])
def session_board(
    request: Request, token: TokenDependency,
    start: Annotated[str | None, Query(description="First UTC day, YYYY-MM-DD (default: 30 days before end)")] = None,
    end: Annotated[str | None, Query(description="Day after the last, excluded (default: after the newest session)")] = None,
    org: OrgQuery = None,
) -> Response:
    """The session board: sessions per day (count, mean, median, p90, active users), the length distribution,
    start and end reasons, engagement tiers and the latest alerts."""
    start_day, end_day = parse_date("start", start), parse_date("end", end)
    check_order(start_day, end_day)
    check_range(start_day, end_day)
    scope = scope_of(token, org)
    return serve(request, lambda reader: queries.board(reader, scope, start_day, end_day), token)
