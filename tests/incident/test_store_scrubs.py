"""The incident store is an exit too (issue 9): whatever text reaches it, the documents written —
to Firestore (both emulators) or the memory store — hold no secret and no invisible character."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from jobtriage.incident.store import (
    DELIVERIES,
    INCIDENTS,
    FirestoreStore,
    IncidentStore,
    MemoryStore,
    _incident_to_doc,
)
from tests.notify import reports as R

SECRET = "ghp_0123456789abcdefghijABCDEFGHIJ0123"
PASSWORD = "Sup3rS3cretPw-42"
INVISIBLE = "\u202e\u200b\u0085\u2028\u00ad"


def _documents(store: IncidentStore) -> str:
    if isinstance(store, MemoryStore):
        docs: list[Any] = [_incident_to_doc(i, "w") for i in store._incidents.values()]
        docs += [asdict(d) for d in store._deliveries.values()]
    else:
        assert isinstance(store, FirestoreStore)
        client = store._client()
        docs = [
            s.to_dict()
            for name in (INCIDENTS, DELIVERIES)
            for s in client.collection(name).stream()
        ]
    return json.dumps(docs, default=str, ensure_ascii=False)


def test_documents_hold_no_secret_and_no_invisible_character(store: IncidentStore) -> None:
    blocks = json.dumps(
        [{"type": "section", "text": {"type": "mrkdwn", "text": f"token={SECRET}{INVISIBLE}"}}]
    )
    incident = R.incident(
        parent_blocks_json=blocks,
        acked_by=f"U0ONCALL{INVISIBLE}",
        resolution_note=f"rotated DATABASE_URL=postgres://a:{PASSWORD}@db, token {SECRET}",
    )
    assert store.create(incident)
    store.update(incident.id, lambda cur: cur)
    key = R.REF.execution_path
    store.claim(key, now=R.T0, lease=timedelta(minutes=5))
    store.finish(
        key,
        result={"action": "error", "error": f"postgres://app:{PASSWORD}@db/app refused{INVISIBLE}"},
    )
    text = _documents(store)
    assert SECRET[:12] not in text
    assert PASSWORD not in text
    for char in INVISIBLE:
        assert char not in text
    assert "postgres://app:[REDACTED]@db/app refused" in text
