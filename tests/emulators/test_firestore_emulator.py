"""What the npm Firestore emulator does and does not do, probed with the real client.

Each probe runs against the npm emulator and, where the machine has it, Google's emulator as the
reference for real Firestore. A probe's expectation per emulator is the table behind
FIRESTORE_EMULATOR.md: if the npm emulator gains a feature, its probe fails and the doc (and the
tests skipped because of that gap) should be revisited.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from standins.firestore import RunningEmulator

Probe = Callable[[firestore.Client], str]
STAMP = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)


def _col(client: firestore.Client) -> firestore.CollectionReference:
    return client.collection("probe")


def create_if_absent(client: firestore.Client) -> str:
    ref = _col(client).document("a")
    ref.create({"x": 1})
    try:
        ref.create({"x": 2})
    except gexc.AlreadyExists:
        return f"refused, kept x={ref.get().get('x')}"
    return "overwritten"


def timestamps_round_trip(client: firestore.Client) -> str:
    ref = _col(client).document("t")
    ref.set({"at": STAMP})
    got = ref.get().get("at")
    return f"equal={got == STAMP} tz={got.tzinfo} us={got.microsecond}"


def update_time_resolution(client: firestore.Client) -> str:
    ref = _col(client).document("u")
    ref.set({"x": 1})
    return "milliseconds" if ref.get().update_time.microsecond % 1000 == 0 else "microseconds"


def delete_and_exists_precondition(client: firestore.Client) -> str:
    ref = _col(client).document("d")
    ref.set({"x": 1})
    ref.delete()
    gone = not ref.get().exists
    ref.delete()  # deleting a missing document is fine
    try:
        ref.delete(option=client.write_option(exists=True))
    except gexc.NotFound:
        return f"deleted={gone}, exists-precondition enforced"
    return f"deleted={gone}, exists-precondition ignored"


def update_requires_existing(client: firestore.Client) -> str:
    try:
        _col(client).document("missing").update({"x": 1})
    except gexc.NotFound:
        return "NotFound"
    return "created"


def stale_update_time_precondition(client: firestore.Client) -> str:
    ref = _col(client).document("p")
    ref.set({"x": 1})
    stale = ref.get().update_time
    ref.update({"x": 2})
    try:
        ref.update({"x": 3}, option=client.write_option(last_update_time=stale))
    except gexc.FailedPrecondition:
        return "refused"
    return f"applied (x={ref.get().get('x')})"


def distinct_update_times(client: firestore.Client) -> str:
    """Writes in quick succession: does each get its own update_time (what a precondition on
    the one read tells apart)?"""
    ref = _col(client).document("t")
    times = {ref.set({"i": i}).update_time for i in range(20)}
    return f"20 writes, {len(times)} times"


def equality_queries(client: firestore.Client) -> str:
    col = _col(client)
    col.document("q1").set({"job": "a", "state": "open"})
    col.document("q2").set({"job": "a", "state": "closed"})
    col.document("q3").set({"job": "b", "state": "open"})
    one = [d.id for d in col.where(filter=firestore.FieldFilter("job", "==", "a")).stream()]
    both = [
        d.id
        for d in col.where(filter=firestore.FieldFilter("job", "==", "a"))
        .where(filter=firestore.FieldFilter("state", "==", "open"))
        .stream()
    ]
    limited = list(col.where(filter=firestore.FieldFilter("job", "==", "a")).limit(1).stream())
    return f"{sorted(one)} {both} limit={len(limited)}"


def null_equality(client: firestore.Client) -> str:
    col = _col(client)
    col.document("n1").set({"v": None})
    col.document("n2").set({"v": "x"})
    found = [d.id for d in col.where(filter=firestore.FieldFilter("v", "==", None)).stream()]
    return str(sorted(found))


def set_replaces_document(client: firestore.Client) -> str:
    ref = _col(client).document("s")
    ref.set({"old": 1, "keep": 1})
    ref.set({"keep": 2})
    return str(sorted(ref.get().to_dict()))


def batch_is_atomic(client: firestore.Client) -> str:
    col = _col(client)
    col.document("exists").set({"x": 1})
    batch = client.batch()
    batch.set(col.document("first"), {"x": 1})
    batch.create(col.document("exists"), {"x": 2})
    with contextlib.suppress(gexc.AlreadyExists):
        batch.commit()
    return "partial" if col.document("first").get().exists else "all-or-nothing"


def offset_cursor_projection(client: firestore.Client) -> str:
    col = _col(client)
    for i in range(3):
        col.document(f"o{i}").set({"i": i, "other": "x"})
    offset = [d.get("i") for d in col.order_by("i").offset(1).stream()]
    after = [d.get("i") for d in col.order_by("i").start_after({"i": 1}).stream()]
    fields = sorted(next(iter(col.select(["i"]).limit(1).stream())).to_dict())
    return f"offset={offset} start_after={after} select={fields}"


def listing(client: firestore.Client) -> str:
    _col(client).document("l").set({"x": 1})
    try:
        ids = [d.id for d in _col(client).list_documents()]
    except gexc.GoogleAPICallError as exc:
        return f"error {type(exc).__name__}"
    return str(ids)


def transaction_isolation(client: firestore.Client) -> str:
    """A write between a transaction's read and its commit: lost, or kept out."""
    ref = _col(client).document("tx")
    ref.set({"n": 0})

    @firestore.transactional
    def bump(tx: firestore.Transaction) -> None:
        n = ref.get(transaction=tx).get("n")
        ref.set({"n": 100})  # someone else writes meanwhile (no lock stops it here)
        tx.update(ref, {"n": n + 1})

    bump(client.transaction())
    return f"n={ref.get().get('n')}"


REAL = "gcloud"  # Google's emulator stands in for real Firestore
PROBES: dict[str, tuple[Probe, dict[str, str]]] = {
    "create-if-absent": (create_if_absent, {"npm": "refused, kept x=1", REAL: "refused, kept x=1"}),
    "timestamps": (
        timestamps_round_trip,
        {"npm": "equal=True tz=UTC us=123456", REAL: "equal=True tz=UTC us=123456"},
    ),
    "delete": (
        delete_and_exists_precondition,
        {
            "npm": "deleted=True, exists-precondition enforced",
            REAL: "deleted=True, exists-precondition enforced",
        },
    ),
    "update needs the document": (update_requires_existing, {"npm": "NotFound", REAL: "NotFound"}),
    "equality filters, AND, limit": (
        equality_queries,
        {"npm": "['q1', 'q2'] ['q1'] limit=1", REAL: "['q1', 'q2'] ['q1'] limit=1"},
    ),
    # Closed for the npm emulator by standins/firestore-npm/server.cjs (strictly later update
    # times, a commit's preconditions checked before any of its writes).
    "update_time precondition": (
        stale_update_time_precondition,
        {"npm": "refused", REAL: "refused"},
    ),
    "batch atomicity": (batch_is_atomic, {"npm": "all-or-nothing", REAL: "all-or-nothing"}),
    "update times distinct": (
        distinct_update_times,
        {"npm": "20 writes, 20 times", REAL: "20 writes, 20 times"},
    ),
    # --- gaps ---
    "== None filter": (null_equality, {"npm": "['n1', 'n2']", REAL: "['n1']"}),
    "set() replaces": (set_replaces_document, {"npm": "['keep', 'old']", REAL: "['keep']"}),
    "offset, cursors, select": (
        offset_cursor_projection,
        {
            "npm": "offset=[0, 1, 2] start_after=[0, 1, 2] select=['i', 'other']",
            REAL: "offset=[1, 2] start_after=[2] select=['i']",
        },
    ),
    "list_documents": (listing, {"npm": "error Unknown", REAL: "['l']"}),
    "update_time resolution": (update_time_resolution, {"npm": "milliseconds"}),
    # Google's emulator locks the read document: the inner write waits for the lock and fails
    # after several seconds, so this probe runs against the npm emulator only.
    "transaction isolation": (transaction_isolation, {"npm": "n=1"}),
}  # fmt: skip


@pytest.fixture(params=["npm", REAL])
def emulator(request: pytest.FixtureRequest) -> RunningEmulator:
    name = "firestore_emulator" if request.param == "npm" else "gcloud_firestore_emulator"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.mark.parametrize("probe", PROBES, ids=PROBES)
def test_probe(probe: str, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    fn, expected = PROBES[probe]
    if emulator.kind not in expected:
        pytest.skip(f"not probed on the {emulator.kind} emulator")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
    client = firestore.Client(
        project=f"probe-{uuid.uuid4().hex[:10]}", credentials=AnonymousCredentials()
    )
    assert fn(client) == expected[emulator.kind]


def test_npm_emulator_listens_on_loopback_only(firestore_emulator: RunningEmulator) -> None:
    assert firestore_emulator.host.startswith("127.0.0.1:")
    assert firestore_emulator.process.poll() is None
