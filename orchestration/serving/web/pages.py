"""The web app: server-rendered pages over the same queries as the API, charts drawn by Plotly (plotly.min.js from
the installed plotly package, never a CDN). Sign-in takes a token and keeps it in an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from orchestration.serving.web import queries
from orchestration.serving.web.params import (
    GRAINS,
    ApiError,
    check_order,
    check_range,
    parse_choice,
    parse_date,
    parse_interval,
    parse_time,
    text,
)
from orchestration.serving.web.queries import Scope
from orchestration.serving.web.tokens import Token

COOKIE = "dwell_token"
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

NAVIGATION = [("/board", "Session board"), ("/metrics", "Metrics"), ("/session-duration", "Session duration"),
              ("/sessions", "Sessions"), ("/users", "Users"), ("/workspaces", "Workspaces"), ("/reports", "Reports")]


def hours(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.1f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


templates.env.filters["duration"] = hours
templates.env.filters["number"] = lambda value: "" if value is None else (
    f"{value:,}" if isinstance(value, int) else f"{value:,.2f}")


class SignIn(Exception):
    """No valid cookie: the page answers with a redirect to the sign-in page."""


def signed_in(request: Request) -> Token:
    token = request.app.state.tokens.verify(request.cookies.get(COOKIE))
    if token is None:
        raise SignIn()
    return token


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/board"


def render(request: Request, name: str, token: Token | None, status: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {
        "navigation": NAVIGATION, "path": request.url.path, "token": token, **context}, status_code=status)


def page(name: str):
    """A page handler: signed in, one publication leased, a bad filter shown on the page as a 400."""
    def decorator(build):
        def handler(request: Request) -> Response:
            try:
                token = signed_in(request)
            except SignIn:
                return login_redirect(request)
            query = {key: value for key, value in request.query_params.items()}
            try:
                with request.app.state.serving.lease() as reader:
                    organizations = queries.organizations(reader, Scope.of(token.organization_id, token.admin, None))
                    context = build(request, reader, token, query)
                    status = 200
            except ApiError as error:
                if error.status == 503:
                    return render(request, "error.html", token, status=503, message=error.message)
                context, status, organizations = {"error": error.message}, error.status, {"organizations": []}
            return render(request, name, token, status=status, query=query,
                          organizations=organizations["organizations"], **context)
        handler.__name__ = build.__name__
        return handler
    return decorator


def scope_for(token: Token, query: dict) -> Scope:
    return Scope.of(token.organization_id, token.admin, text("org", query.get("org")))


def url_with(path: str, query: dict, **changes) -> str:
    merged = {key: value for key, value in {**query, **changes}.items() if value not in (None, "")}
    return path + ("?" + urlencode(merged) if merged else "")


# --- Sign in and out ------------------------------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", None, next=safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    secret = (form.get("token") or [""])[0].strip()
    target = safe_next((form.get("next") or [""])[0])
    token = request.app.state.tokens.verify(secret)
    if token is None:
        return render(request, "login.html", None, status=401, next=target,
                      error="That token is not valid: it is unknown or was revoked.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, secret, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/", max_age=7 * 24 * 3600)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home() -> Response:
    return RedirectResponse("/board", status_code=303)


# --- Pages ----------------------------------------------------------------------------------------------------------

def figure(data: list[dict], title: str, **layout) -> dict:
    return {"data": data, "layout": {"title": {"text": title, "font": {"size": 15}}, "margin": {"t": 40, "r": 20},
                                     "height": 320, "legend": {"orientation": "h"}, **layout}}


@router.get("/board")
@page("board.html")
def board_page(request, reader, token, query):
    scope = scope_for(token, query)
    start, end = parse_date("start", query.get("start")), parse_date("end", query.get("end"))
    board = queries.board(reader, scope, start, end)
    days = board["days"]
    sessions_chart = figure([
        {"type": "bar", "name": "sessions", "x": [day["day"] for day in days],
         "y": [day["session_count"] for day in days], "marker": {"color": "#5b8def"}},
        {"type": "scatter", "mode": "lines+markers", "name": "median minutes", "yaxis": "y2",
         "x": [day["day"] for day in days], "y": [round(day["median_duration_seconds"] / 60, 2) for day in days]},
        {"type": "scatter", "mode": "lines", "name": "p90 minutes", "yaxis": "y2", "line": {"dash": "dot"},
         "x": [day["day"] for day in days], "y": [round(day["p90_duration_seconds"] / 60, 2) for day in days]},
    ], "Sessions per day", yaxis={"title": {"text": "sessions"}},
        yaxis2={"title": {"text": "minutes"}, "overlaying": "y", "side": "right"})
    distribution = board["length_distribution"]
    length_chart = figure([{"type": "bar", "x": [bucket["bucket_label"] for bucket in distribution],
                            "y": [bucket["session_count"] for bucket in distribution], "marker": {"color": "#36a37e"}}],
                          "Session length distribution", xaxis={"type": "category"})
    return {"board": board, "charts": {"sessions_chart": sessions_chart, "length_chart": length_chart}}


@router.get("/metrics")
@page("metrics.html")
def metrics_page(request, reader, token, query):
    scope = scope_for(token, query)
    categories = reader.snapshot.facts["categories"]
    category = parse_choice("action", query.get("action"), categories, "any")
    interval = query.get("interval") or "1 week"
    step, unit = parse_interval(interval)
    end = parse_date("end", query.get("end"))
    start = parse_date("start", query.get("start"))
    if end is None or start is None:
        default_start, default_end = queries.board_range(reader, scope, None, None)
        end = end or default_end
        start = start or max(default_start, end - timedelta(days=28))
    check_order(start, end, strict=True)
    check_range(start, end)
    report = orjson.loads(queries.activity(reader, scope, start, end, step, unit, category).encoded)
    chart = figure([{"type": "bar", "x": [bucket["time"][:10] for bucket in report["activity"]],
                     "y": [len(bucket["user_activity"]) for bucket in report["activity"]],
                     "marker": {"color": "#7a5cd6"}, "name": "active users"}],
                   f"Active users ({category}) per {interval}", xaxis={"type": "category"},
                   yaxis={"title": {"text": "active users"}})
    people = sorted(report["users"].values(), key=lambda user: (-user["total_duration"], user["id"]))
    return {"report": report, "people": people, "categories": categories, "category": category,
            "interval": interval, "start": start.isoformat(), "end": end.isoformat(), "charts": {"activity_chart": chart}}


@router.get("/session-duration")
@page("session_duration.html")
def session_duration_page(request, reader, token, query):
    scope = scope_for(token, query)
    start = parse_date("start_date", query.get("start_date"))
    end = parse_date("end_date", query.get("end_date"))
    if start is None or end is None:
        default_start, default_end = queries.board_range(reader, scope, None, None)
        end = end or default_end - timedelta(days=1)
        start = start or end - timedelta(days=6)
    check_order(start, end, names=("start_date", "end_date"))
    check_range(start, end, names=("start_date", "end_date"))
    results = queries.session_duration(reader, scope, start, end)["results"]
    ranked = sorted(results, key=lambda row: -row["average_duration"])[:40]
    chart = figure([{"type": "bar", "orientation": "h", "y": [row["user_id"] for row in reversed(ranked)],
                     "x": [round(row["average_duration"] / 60, 2) for row in reversed(ranked)],
                     "marker": {"color": "#e08a3c"}}],
                   "Average session duration by user (minutes)", height=max(320, 18 * len(ranked) + 80),
                   margin={"l": 110, "t": 40, "r": 20})
    return {"results": results, "start_date": start.isoformat(), "end_date": end.isoformat(),
            "charts": {"duration_chart": chart}}


@router.get("/sessions")
@page("sessions.html")
def sessions_page(request, reader, token, query):
    scope = scope_for(token, query)
    listing = queries.sessions(reader, scope, user_id=text("user_id", query.get("user_id")),
                               workspace_id=text("workspace_id", query.get("workspace_id")),
                               start=parse_time("start", query.get("start")), end=parse_time("end", query.get("end")),
                               limit=50, cursor=query.get("cursor"))
    next_url = url_with("/sessions", query, cursor=listing["next_cursor"]) if listing["next_cursor"] else None
    return {"listing": listing, "next_url": next_url, "first_url": url_with("/sessions", query, cursor=None)}


@router.get("/sessions/{session_id}")
def session_page(request: Request, session_id: str) -> Response:
    @page("session.html")
    def build(request, reader, token, query):
        detail = queries.session(reader, Scope.of(token.organization_id, token.admin, None),
                                 text("session_id", session_id, required=True))
        events = detail["events"]
        categories = sorted({event["category"] or "other" for event in events})
        timeline = figure([{"type": "scatter", "mode": "markers", "name": category,
                            "x": [event["occurred_at"] for event in events if (event["category"] or "other") == category],
                            "y": [category for event in events if (event["category"] or "other") == category],
                            "text": [event["event_name"] for event in events if (event["category"] or "other") == category],
                            "marker": {"size": 10}} for category in categories],
                          "Events over the session", showlegend=False, yaxis={"type": "category"})
        return {"detail": detail, "charts": {"timeline_chart": timeline}}
    return build(request)


@router.get("/users")
@page("users.html")
def users_page(request, reader, token, query):
    scope = scope_for(token, query)
    listing = queries.users(reader, scope, email=text("email", query.get("email")), name=text("name", query.get("name")),
                            company=text("company", query.get("company")),
                            email_domain=text("email_domain", query.get("email_domain")),
                            workspace_id=text("workspace_id", query.get("workspace_id")), limit=100,
                            cursor=query.get("cursor"))
    next_url = url_with("/users", query, cursor=listing["next_cursor"]) if listing["next_cursor"] else None
    return {"listing": listing, "next_url": next_url}


@router.get("/users/{user_id}")
def user_page(request: Request, user_id: str) -> Response:
    @page("user.html")
    def build(request, reader, token, query):
        return {"detail": queries.user(reader, Scope.of(token.organization_id, token.admin, None),
                                       text("user_id", user_id, required=True))}
    return build(request)


@router.get("/workspaces")
@page("workspaces.html")
def workspaces_page(request, reader, token, query):
    scope = scope_for(token, query)
    listing = queries.workspaces(reader, scope, name=text("name", query.get("name")),
                                 owner_user_id=text("owner_user_id", query.get("owner_user_id")), limit=100,
                                 cursor=query.get("cursor"))
    next_url = url_with("/workspaces", query, cursor=listing["next_cursor"]) if listing["next_cursor"] else None
    return {"listing": listing, "next_url": next_url}


@router.get("/workspaces/{workspace_id}")
def workspace_page(request: Request, workspace_id: str) -> Response:
    @page("workspace.html")
    def build(request, reader, token, query):
        detail = queries.workspace(reader, Scope.of(token.organization_id, token.admin, None),
                                   text("workspace_id", workspace_id, required=True))
        daily = detail["daily"]
        chart = figure([{"type": "bar", "name": "workspace sessions", "x": [day["day"] for day in daily],
                         "y": [day["workspace_session_count"] for day in daily], "marker": {"color": "#5b8def"}},
                        {"type": "scatter", "mode": "lines+markers", "name": "focused hours", "yaxis": "y2",
                         "x": [day["day"] for day in daily],
                         "y": [round(day["focused_seconds"] / 3600, 2) for day in daily]}],
                       "Workspace sessions per day", yaxis2={"overlaying": "y", "side": "right",
                                                             "title": {"text": "hours"}})
        return {"detail": detail, "charts": {"workspace_chart": chart}}
    return build(request)


@router.get("/reports")
@page("reports.html")
def reports_page(request, reader, token, query):
    scope = scope_for(token, query)
    grain = parse_choice("grain", query.get("grain"), GRAINS, "day")
    start, end = parse_date("start", query.get("start")), parse_date("end", query.get("end"))
    check_order(start, end)
    check_range(start, end)
    report = queries.period_report(reader, scope, grain=grain, start=start, end=end,
                                   email=text("email", query.get("email")), company=text("company", query.get("company")),
                                   email_domain=text("email_domain", query.get("email_domain")))
    periods = report["periods"]
    labels = [period["period_start"] or "lifetime" for period in periods]
    chart = figure([{"type": "bar", "name": "sessions", "x": labels, "y": [p["session_count"] for p in periods],
                     "marker": {"color": "#5b8def"}},
                    {"type": "scatter", "mode": "lines+markers", "name": "active users", "yaxis": "y2", "x": labels,
                     "y": [p["active_user_count"] for p in periods]}],
                   f"Sessions and active users per {grain}", xaxis={"type": "category"},
                   yaxis2={"overlaying": "y", "side": "right", "title": {"text": "users"}})
    return {"report": report, "grain": grain, "grains": GRAINS, "charts": {"report_chart": chart}}
