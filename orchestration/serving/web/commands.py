"""`dwell serve` and `dwell tokens ...`: what orchestration/cli.py's subcommands call."""

from __future__ import annotations

import argparse
import os
import sys

from orchestration.errors import DwellError
from orchestration.settings import serving_dir
from orchestration.serving.web.snapshot import CACHE_VARIABLE
from orchestration.serving.web.tokens import TokenStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_commands(commands) -> None:
    serve = commands.add_parser("serve", help="serve the JSON API and the web app over the serving copy")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--cache-mb", type=float, default=None,
                       help="answers kept per publication, in MiB (default DWELL_SERVE_CACHE_MB, else 256; 0: none)")
    serve.set_defaults(handler=command_serve)

    tokens = commands.add_parser("tokens", help="create, list and revoke API tokens")
    actions = tokens.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="print a new token alone on stdout (it is shown once)")
    scope = create.add_mutually_exclusive_group(required=True)
    scope.add_argument("--org", help="the organization the token sees")
    scope.add_argument("--admin", action="store_true", help="a token that sees every organization")
    create.add_argument("--name", required=True, help="a name to list and revoke it by")
    create.set_defaults(handler=command_tokens_create)
    listing = actions.add_parser("list", help="the tokens (names, scopes, creation times; never the tokens)")
    listing.set_defaults(handler=command_tokens_list)
    revoke = actions.add_parser("revoke", help="revoke a token by name: it stops working at once")
    revoke.add_argument("name")
    revoke.set_defaults(handler=command_tokens_revoke)


def command_serve(args: argparse.Namespace) -> None:
    import uvicorn

    directory = serving_dir()
    TokenStore().tokens()  # an unreadable token file stops here, not at the first request
    if not (directory / "dwell.duckdb").exists():
        print(f"No serving copy in {directory} yet: pages answer 503 until a successful `dwell run` publishes one.",
              file=sys.stderr)
    if args.workers < 1:
        raise DwellError("--workers must be at least 1")
    if args.cache_mb is not None:
        if args.cache_mb < 0:
            raise DwellError("--cache-mb must be 0 or more")
        # The server processes read it when they make the application.
        os.environ[CACHE_VARIABLE] = str(args.cache_mb)
    print(f"dwell serves {directory} on http://{args.host}:{args.port} (API docs: /docs)", file=sys.stderr, flush=True)
    uvicorn.run("orchestration.serving.web.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="warning", access_log=False, proxy_headers=False)


def command_tokens_create(args: argparse.Namespace) -> None:
    store = TokenStore()
    secret = store.create(args.name, None if args.admin else args.org, args.admin)
    print(secret)
    where = "every organization" if args.admin else f"organization {args.org}"
    print(f"Token {args.name!r} for {where} saved (hashed) in {store.path}; it is shown only this once.",
          file=sys.stderr)
    if not args.admin:
        warning = _unknown_organization(args.org)
        if warning:
            print(warning, file=sys.stderr)


def _unknown_organization(organization: str) -> str | None:
    path = serving_dir() / "dwell.duckdb"
    if not path.exists():
        return None
    import duckdb

    try:
        with duckdb.connect(":memory:") as connection:
            connection.execute("attach '" + str(path).replace("'", "''") + "' as serving (read_only)")
            known = connection.execute(
                "select count(*) from serving.marts.dim_users where organization_id = ?", [organization]).fetchone()[0]
    except duckdb.Error:
        return None
    return None if known else (f"Note: the serving copy has no user in organization {organization!r} yet; the token "
                               "sees nothing until it has.")


def command_tokens_list(args: argparse.Namespace) -> None:
    store = TokenStore()
    tokens = store.tokens()
    if not tokens:
        print(f"No tokens in {store.path}", file=sys.stderr)
        return
    width = max(len(token.name) for token in tokens)
    print(f"{'name'.ljust(width)}  {'scope'.ljust(30)}  created")
    for token in tokens:
        print(f"{token.name.ljust(width)}  {token.scope.ljust(30)}  {token.created_at}")


def command_tokens_revoke(args: argparse.Namespace) -> None:
    revoked = TokenStore().revoke(args.name)
    print(f"Revoked {revoked.name!r} ({revoked.scope})", file=sys.stderr)
