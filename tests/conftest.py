"""Fixtures: every state test runs on SQLite, and on PostgreSQL too when ZHONGCAO_TEST_POSTGRES_URL is set.

Each test run gets its own PostgreSQL schema (dropped at the end) and each test a clean slate.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from zhongcao import accounts, billing
from zhongcao.accounts import Actor
from zhongcao.api import create_app
from zhongcao.core import Database, ManualClock, Runtime, Settings
from zhongcao.migrations import metadata, upgrade

PG_URL = os.environ.get("ZHONGCAO_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])
ADMIN_TOKEN = "test-operator-token"
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once, copy per test: a fresh database costs a file copy."""
    path = tmp_path_factory.mktemp("template") / "state.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    assert PG_URL
    schema = f"zc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    db = Database(PG_URL, schema=schema)
    upgrade(db)
    db.dispose()
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def make_db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if backend == "sqlite":
        path = tmp_path / "state.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Database(f"sqlite:///{path}")
    schema = request.getfixturevalue("pg_schema")
    db = Database(PG_URL or "", schema=schema)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return db


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_settings(**overrides: object) -> Settings:
    return Settings(admin_token=ADMIN_TOKEN, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def rt(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    db = make_db(backend, request, tmp_path)
    runtime = Runtime(db=db, clock=ManualClock(START), settings=make_settings(home=tmp_path / "home"))
    yield runtime
    db.dispose()


OP = Actor.operator()


@dataclass
class Kob:
    """A brand with three authorized stores, one distributor with a store under it, a sibling brand
    with its own store, an agency and a creator: enough to test every edge of the permission tree."""

    brand: int
    stores: list[int]
    distributor: int
    dist_store: int
    other_brand: int
    other_store: int
    agency: int
    creator: int

    def actor(self, account_id: int) -> Actor:
        return Actor.of_account(account_id)


def certified(rt: Runtime, kind: str, name: str) -> int:
    account = accounts.do_create_account(rt, kind, name, actor=OP)
    accounts.do_decide_certification(rt, account.id, "approve", actor=OP)
    return account.id


def authorize(rt: Runtime, parent: int, child: int) -> int:
    invite = accounts.do_invite(rt, parent, child, actor=Actor.of_account(parent))
    accounts.do_confirm(rt, invite.id, actor=Actor.of_account(child))
    return invite.id


@pytest.fixture
def kob(rt: Runtime) -> Kob:
    brand = certified(rt, "brand", "品牌 Brand")
    stores = [certified(rt, "store", f"门店 Store {i}") for i in range(3)]
    distributor = certified(rt, "distributor", "经销商 Distributor")
    dist_store = certified(rt, "store", "经销门店 Dist store")
    other_brand = certified(rt, "brand", "别的品牌 Other brand")
    other_store = certified(rt, "store", "别的门店 Other store")
    agency = certified(rt, "agency", "代理 Agency")
    creator = certified(rt, "creator", "达人 Creator")
    for s in stores:
        authorize(rt, brand, s)
    authorize(rt, brand, distributor)
    authorize(rt, distributor, dist_store)
    authorize(rt, other_brand, other_store)
    return Kob(brand, stores, distributor, dist_store, other_brand, other_store, agency, creator)


def assert_books(rt: Runtime) -> None:
    """The ledger's invariants, checked after every operation in the money tests."""
    check = billing.check_books(rt)
    assert check == billing.LedgerCheck(0, 0, 0, 0)
    with rt.db.read() as s:
        bad = s.execute(text(
            "SELECT w.id FROM wallet w LEFT JOIN (SELECT wallet_id, SUM(amount_fen - spent_fen) AS held "
            "FROM lease WHERE state = 'open' GROUP BY wallet_id) l ON l.wallet_id = w.id "
            "WHERE w.reserved_fen <> COALESCE(l.held, 0) OR (NOT w.external AND w.balance_fen < 0)"
        )).all()
    assert bad == [], f"wallets whose reservations do not match open leases, or negative: {bad}"


OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    """The app on the test's runtime, with its background jobs off: tests drive them."""
    with TestClient(create_app(rt, money_jobs=False)) as c:
        yield c


def key(rt: Runtime, account_id: int) -> dict[str, str]:
    """Headers carrying a fresh API key of the account."""
    return {"Authorization": f"Bearer {accounts.do_create_api_key(rt, account_id, actor=OP).key}"}


def call(client: TestClient, method: str, path: str, json: object = None, headers: dict[str, str] = OPERATOR,
         status: int = 200) -> dict[str, Any]:
    """One request that must answer ``status``; its JSON."""
    r = client.request(method, path, json=json, headers=headers)
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body
