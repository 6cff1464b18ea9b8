"""Fixtures of the in-process layer (tests/support/inprocess.py): `inprocess_databases` (the
DSNs of the per-service databases, migrated once per session) and `rolled_back` (call it with a
service's name for a connection inside a transaction rolled back after the test)."""
from __future__ import annotations

from typing import AsyncIterator

import pytest

from tests.support.inprocess import RolledBack, Transactions, migrate_databases


@pytest.fixture(scope="session")
async def inprocess_databases(infra, stack_config) -> dict[str, str]:
    return await migrate_databases(stack_config)


@pytest.fixture
async def rolled_back(inprocess_databases) -> AsyncIterator[RolledBack]:
    transactions = Transactions(inprocess_databases)
    yield transactions
    await transactions.rollback_all()
