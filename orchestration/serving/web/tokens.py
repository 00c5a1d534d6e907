"""API tokens (`dwell tokens create|list|revoke`): random, shown once, stored only as SHA-256 digests in
DWELL_TOKENS_FILE (default: tokens.json beside the warehouse file), outside the warehouse and the serving copy.

A token is an organization's (it sees that organization only) or an admin's (it sees everything). The file is
rewritten atomically under a lock, and the server reads it again whenever it changes, so a revoked token stops
working at once, without a restart."""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from orchestration.errors import DwellError
from orchestration.settings import duckdb_path, serving_dir

TOKENS_FILE_VARIABLE = "DWELL_TOKENS_FILE"
TOKEN_PREFIX = "dwell_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class TokenError(DwellError):
    pass


def tokens_file() -> Path:
    configured = os.environ.get(TOKENS_FILE_VARIABLE, "").strip()
    path = Path(configured).resolve() if configured else duckdb_path().parent / "tokens.json"
    serving = serving_dir()
    if path == serving or serving in path.parents:
        raise TokenError(f"{TOKENS_FILE_VARIABLE} ({path}) must be outside the serving directory {serving}: "
                         "everything in it is published to BI readers")
    return path


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Token:
    name: str
    organization_id: str | None
    admin: bool
    sha256: str
    created_at: str

    @property
    def scope(self) -> str:
        return "admin" if self.admin else f"organization {self.organization_id}"


class TokenStore:
    """The token file. Reads are cached until the file changes (its inode, size or modification time)."""

    def __init__(self, path: Path | None = None):
        self.path = path or tokens_file()
        self._cached: tuple[tuple, list[Token]] | None = None
        self._lock = threading.Lock()

    def _identity(self) -> tuple | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_size, stat.st_mtime_ns

    def tokens(self) -> list[Token]:
        identity = self._identity()
        if identity is None:
            return []
        cached = self._cached
        if cached is not None and cached[0] == identity:
            return cached[1]
        with self._lock:
            try:
                loaded = [Token(**entry) for entry in json.loads(self.path.read_text())["tokens"]]
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise TokenError(f"Cannot read the token file {self.path}: {error}") from error
            self._cached = (identity, loaded)
            return loaded

    def verify(self, token: str | None) -> Token | None:
        """The token's entry, or None. Every digest is compared in constant time."""
        if not token or len(token) > 200:
            return None
        presented = digest(token)
        found = None
        for entry in self.tokens():
            if hmac.compare_digest(entry.sha256, presented):
                found = entry
        return found

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _write(self, tokens: list[Token]) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"tokens": [asdict(token) for token in tokens]}, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def create(self, name: str, organization_id: str | None, admin: bool) -> str:
        """A new token: returns the secret, which is stored nowhere."""
        if not _NAME.fullmatch(name or ""):
            raise TokenError(f"A token name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or "
                             f"digit, got: {name!r}")
        if admin == (organization_id is not None):
            raise TokenError("A token is either an organization's (--org ORG) or an admin's (--admin), not both")
        if organization_id is not None and (not organization_id or len(organization_id) > 200
                                            or not organization_id.isprintable()):
            raise TokenError(f"Not an organization id: {organization_id!r}")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._locked():
            tokens = self.tokens()
            if any(token.name == name for token in tokens):
                raise TokenError(f"A token named {name!r} exists; revoke it first or pick another name")
            created = datetime.now(timezone.utc).isoformat(timespec="seconds")
            self._write([*tokens, Token(name, organization_id, admin, digest(secret), created)])
        return secret

    def revoke(self, name: str) -> Token:
        with self._locked():
            tokens = self.tokens()
            kept = [token for token in tokens if token.name != name]
            if len(kept) == len(tokens):
                raise TokenError(f"No token named {name!r} (dwell tokens list shows them)")
            self._write(kept)
        return next(token for token in tokens if token.name == name)
