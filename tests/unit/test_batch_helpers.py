"""Helpers for batch handlers: the last event per aggregate, paths as array literals."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

from unionops.consumer import last_per
from unionops.projections import pg_path


def test_the_last_event_of_each_member_wins_in_the_order_of_the_batch():
    a, b = uuid.uuid4(), uuid.uuid4()
    batch = [SimpleNamespace(event=SimpleNamespace(member_id=m, n=i)) for i, m in enumerate([a, b, a, a])]
    kept = last_per(batch, lambda r: r.event.member_id)
    assert [(r.event.member_id, r.event.n) for r in kept] == [(b, 1), (a, 3)]
    assert last_per([], lambda r: r) == []


def test_paths_of_any_length_travel_as_text_arrays():
    root, unit = uuid.uuid4(), uuid.uuid4()
    assert pg_path([root, unit]) == "{" + f"{root},{unit}" + "}"
    assert pg_path([]) == "{}" and pg_path(None) is None
