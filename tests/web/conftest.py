"""`dwell serve`'s fixtures: one sample built once per worker (tests/helpers.py build_serve_sample), and an
in-process client on its serving copy A. tests/conftest.py keeps tests/web's files on one worker (SERIAL_GROUPS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from helpers import ServeSample, build_serve_sample
from orchestration.serving.web.app import create_app


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> ServeSample:
    return build_serve_sample(tmp_path_factory.mktemp("web-sample"))


@pytest.fixture(scope="session")
def client(sample: ServeSample) -> Iterator[TestClient]:
    with TestClient(create_app(sample.serving_a, sample.tokens_file), raise_server_exceptions=False) as test_client:
        yield test_client
