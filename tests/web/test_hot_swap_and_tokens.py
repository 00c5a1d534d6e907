"""A new publication is served without a restart and no answer mixes two publications; tokens are random, printed
once, stored hashed outside the warehouse and the serving copy, and a revoked token stops working at once."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from orchestration.serving.web.app import create_app
from helpers import admin_headers, org_headers

URLS = ["/api/board?start=2026-10-01&end=2026-10-12", "/api/sessions?limit=1000", "/api/users?limit=1000",
        "/api/private/metrics/activity?start=2026-10-01T00:00:00Z&end=2026-10-12T00:00:00Z&category=any&interval=1%20week"]


def put_in_place(source: Path, served: Path) -> None:
    """What publish() does with the snapshot: write it under a temporary name, rename it into place."""
    temporary = served / f".publishing-{uuid.uuid4().hex}.duckdb"
    shutil.copy2(source / "dwell.duckdb", temporary)
    os.replace(temporary, served / "dwell.duckdb")


def test_a_new_publication_is_served_without_a_restart_and_never_mixed(sample, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    put_in_place(sample.serving_a, served)
    headers = admin_headers(sample)
    with TestClient(create_app(served, sample.tokens_file), raise_server_exceptions=False) as client:
        expected = {}
        for name, source in [("a", sample.serving_a), ("b", sample.serving_b)]:
            put_in_place(source, served)
            expected[name] = {url: client.get(url, headers=headers).json() for url in URLS}
        assert all(expected["a"][url] != expected["b"][url] for url in URLS)
        renamed = client.get("/api/users?limit=1", headers=headers).json()["users"][0]["first_name"]
        assert renamed == "Renamed"

        # Clients read while the copy is replaced again and again: every answer is one copy's, whole.
        failures, answers, stop = [], [], threading.Event()

        def reader(url):
            while not stop.is_set():
                response = client.get(url, headers=headers)
                if response.status_code != 200:
                    failures.append((url, response.status_code, response.text[:200]))
                    continue
                body = response.json()
                match = [name for name in expected if expected[name][url] == body]
                answers.append(match[0] if match else None)
                if not match:
                    failures.append((url, "an answer of neither copy"))

        threads = [threading.Thread(target=reader, args=(url,)) for url in URLS for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            # At least 12 replacements, and on until each copy answered a few times (a loaded machine is slow).
            swap, deadline = 0, time.monotonic() + 90
            while swap < 12 or min(answers.count("a"), answers.count("b")) < 5 and time.monotonic() < deadline:
                put_in_place(sample.serving_b if swap % 2 == 0 else sample.serving_a, served)
                swap += 1
                time.sleep(0.15)
            if swap % 2 == 1:
                put_in_place(sample.serving_a, served)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert not failures, failures[:5]
        assert answers.count("a") >= 5 and answers.count("b") >= 5, (answers.count("a"), answers.count("b"))
        # The last copy put in place is the one served now; the previous ones were closed.
        assert client.get(URLS[0], headers=headers).json() == expected["a"][URLS[0]]
        health = client.get("/healthz").json()
        assert health["snapshot"].endswith(str((served / "dwell.duckdb").stat().st_ino))


def test_no_serving_copy_is_a_503_with_a_message(sample, tmp_path):
    with TestClient(create_app(tmp_path / "empty", sample.tokens_file)) as client:
        for response in [client.get("/healthz"), client.get("/api/users", headers=admin_headers(sample))]:
            assert response.status_code == 503 and "dwell run" in response.json()["message"]


def dwell(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("dwell")), *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_token_commands_print_once_store_hashes_and_revoke_at_once(sample, tmp_path):
    tokens_file = tmp_path / "state" / "tokens.json"
    env = {**sample.environment(), "DWELL_TOKENS_FILE": str(tokens_file)}
    organization = sample.organizations[0]
    created = dwell("tokens", "create", "--org", organization, "--name", "ci-org", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert created.stdout == token + "\n" and token.startswith("dwell_") and len(token) >= 40
    admin = dwell("tokens", "create", "--admin", "--name", "ci-admin", env=env).stdout.strip()
    assert admin != token
    stored = tokens_file.read_text()
    assert token not in stored and admin not in stored and token[6:20] not in stored
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    assert {entry["name"] for entry in json.loads(stored)["tokens"]} == {"ci-org", "ci-admin"}
    listing = dwell("tokens", "list", env=env)
    assert "ci-org" in listing.stdout and f"organization {organization}" in listing.stdout and token not in listing.stdout
    for bad in [["tokens", "create", "--org", organization, "--name", "ci-org"],  # the name is taken
                ["tokens", "create", "--name", "x"],  # neither --org nor --admin
                ["tokens", "create", "--org", "o", "--admin", "--name", "y"],
                ["tokens", "revoke", "no-such-token"]]:
        result = dwell(*bad, env=env)
        assert result.returncode != 0 and not result.stdout, bad

    with TestClient(create_app(sample.serving_a, tokens_file)) as client:
        assert client.get("/api/users", headers={"Session-Token": token}).status_code == 200
        assert client.get("/api/users", headers={"Session-Token": admin}).status_code == 200
        revoked = dwell("tokens", "revoke", "ci-org", env=env)
        assert revoked.returncode == 0, revoked.stderr
        assert client.get("/api/users", headers={"Session-Token": token}).status_code == 401
        assert client.get("/api/users", headers={"Session-Token": admin}).status_code == 200
    # The token file is never inside the serving directory (it is published to BI readers).
    inside = dwell("tokens", "list", env={**env, "DWELL_TOKENS_FILE": str(sample.serving_a / "tokens.json")})
    assert inside.returncode == 1 and "outside the serving directory" in inside.stderr


def test_the_web_app_signs_in_with_an_httponly_samesite_cookie(client, sample):
    response = client.get("/board", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    wrong = client.post("/login", data={"token": "nope", "next": "/board"}, follow_redirects=False)
    assert wrong.status_code == 401 and "not valid" in wrong.text
    organization = sample.organizations[0]
    signed = client.post("/login", data={"token": sample.org_tokens[organization], "next": "https://evil.example/"},
                         follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/board"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    page = client.get("/board")
    assert page.status_code == 200 and f"organization {organization}" in page.text
    client.post("/logout")
    client.cookies.clear()
    assert client.get("/users", follow_redirects=False).status_code == 303
    assert org_headers(sample, organization)


def test_answers_are_cached_per_publication_and_per_token_scope(sample, tmp_path):
    served = tmp_path / "served-cache"
    served.mkdir()
    put_in_place(sample.serving_a, served)
    url = "/api/users?limit=1000"
    organization = sample.organizations[0]
    with TestClient(create_app(served, sample.tokens_file)) as client:
        first = client.get(url, headers=admin_headers(sample))
        again = client.get(url, headers=admin_headers(sample))
        assert "x-dwell-cache" not in first.headers and again.headers["x-dwell-cache"] == "hit"
        assert again.content == first.content
        # Another scope never gets that answer.
        scoped = client.get(url, headers=org_headers(sample, organization))
        assert "x-dwell-cache" not in scoped.headers
        assert {row["organization_id"] for row in scoped.json()["users"]} == {organization}
        # A new publication starts with no answer kept.
        put_in_place(sample.serving_b, served)
        swapped = client.get(url, headers=admin_headers(sample))
        assert "x-dwell-cache" not in swapped.headers and swapped.content != first.content
        assert swapped.json()["users"][0]["first_name"] == "Renamed"
    with TestClient(create_app(served, sample.tokens_file)) as client:
        client.app.state.serving.cache = 0
        client.app.state.serving.close()
        client.get(url, headers=admin_headers(sample))
        assert "x-dwell-cache" not in client.get(url, headers=admin_headers(sample)).headers
