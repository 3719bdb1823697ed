"""Anchoring the audit trail outside the database (issue 14, item 5).

The hash chain (``security/hashchain.py``) catches an edited row, but someone who can write to the database
at will can recompute every hash from the edited row onwards and leave a chain that verifies. A checkpoint
closes that gap: the newest entry's id and hash, written to a file outside the database and signed with an
HMAC whose key is not in the database either (derived from ``ALSCARE_SECRET_KEY``). ``alscare audit verify``
then checks that the checkpointed entry is still in the chain at its position with the same hash; a rewritten
chain has a different hash there (or no entry), and a forged checkpoint fails its signature.

The worker writes one periodically and ``alscare audit checkpoint`` writes one on demand. Copy the file off
the server (or POST it to a webhook) to protect it from someone who controls the whole machine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alscare.security.hashchain import ChainProblem
from alscare.storage.models import AuditEvent

CHECKPOINT_FILE = "audit_checkpoint.json"
FORMAT = "alscare-audit-checkpoint-1"
_KEY_LABEL = b"alscare audit checkpoint v1"


@dataclass(frozen=True)
class Checkpoint:
    """The chain's newest entry at one moment: its id, its hash and how many entries there were."""

    entry_id: int
    entry_hash: str
    entries: int
    written_at: str

    def payload(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "entry_id": self.entry_id,
            "entry_hash": self.entry_hash,
            "entries": self.entries,
            "written_at": self.written_at,
        }


def checkpoint_key(secret_key: bytes) -> bytes:
    """A key of its own for checkpoints, derived from the app's secret (never stored in the database)."""
    return hmac.new(secret_key, _KEY_LABEL, hashlib.sha256).digest()


def _signature(key: bytes, payload: dict[str, object]) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(checkpoint_key(key), body, hashlib.sha256).hexdigest()


def current_checkpoint(db: Session, *, now: datetime) -> Checkpoint | None:
    """The newest sealed entry of the chain, or None while nothing is sealed."""
    sealed = AuditEvent.seq.is_not(None)
    last = db.execute(select(AuditEvent).where(sealed).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one_or_none()
    if last is None or last.hash is None:
        return None
    count = db.execute(select(func.count()).select_from(AuditEvent).where(sealed)).scalar_one()
    return Checkpoint(
        entry_id=last.id, entry_hash=last.hash, entries=int(count), written_at=now.astimezone(UTC).isoformat()
    )


def signed_document(checkpoint: Checkpoint, *, secret_key: bytes) -> dict[str, object]:
    """The checkpoint as written to the file or sent to a webhook: its fields plus their HMAC-SHA256."""
    payload = checkpoint.payload()
    return {**payload, "hmac_sha256": _signature(secret_key, payload)}


def write_checkpoint(db: Session, *, path: Path, secret_key: bytes, now: datetime) -> Checkpoint | None:
    """Write the signed checkpoint atomically (write, fsync, rename), readable only by its owner.

    Rows still waiting are sealed and the seal committed first: the file must never name a hash that a
    rolled-back transaction took away again.
    """
    from alscare.actions.audit import seal_pending

    seal_pending(db)
    db.commit()
    checkpoint = current_checkpoint(db, now=now)
    if checkpoint is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(signed_document(checkpoint, secret_key=secret_key), f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return checkpoint


class CheckpointUnreadable(Exception):
    """The checkpoint file exists but is not one we wrote (bad JSON, wrong format or a bad signature)."""


def read_checkpoint(path: Path, *, secret_key: bytes) -> Checkpoint | None:
    """The checkpoint in ``path``; None when there is no file yet; CheckpointUnreadable when forged or broken."""
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        signature = str(doc.pop("hmac_sha256"))
        checkpoint = Checkpoint(
            entry_id=int(doc["entry_id"]),
            entry_hash=str(doc["entry_hash"]),
            entries=int(doc["entries"]),
            written_at=str(doc["written_at"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointUnreadable(f"checkpoint file {path} is not readable ({type(e).__name__})") from None
    if doc.get("format") != FORMAT or not hmac.compare_digest(signature, _signature(secret_key, checkpoint.payload())):
        raise CheckpointUnreadable(f"checkpoint file {path} has a bad signature: it was not written with this key")
    return checkpoint


def check_against_checkpoint(db: Session, checkpoint: Checkpoint) -> list[ChainProblem]:
    """The checkpointed entry must still be in the chain, at the same position, with the same hash."""
    entry = db.get(AuditEvent, checkpoint.entry_id)
    if entry is None:
        return [ChainProblem(-1, checkpoint.entry_id, "the checkpointed entry is missing: the trail was cut")]
    problems = []
    if entry.hash != checkpoint.entry_hash:
        problems.append(
            ChainProblem(-1, checkpoint.entry_id, "hash differs from the signed checkpoint: the chain was rewritten")
        )
    if entry.seq is None:
        return [*problems, ChainProblem(-1, checkpoint.entry_id, "the checkpointed entry is no longer sealed")]
    position = db.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_not(None), AuditEvent.seq <= entry.seq)
    ).scalar_one()
    if position != checkpoint.entries:
        problems.append(
            ChainProblem(
                -1,
                checkpoint.entry_id,
                f"entry is at position {position}, the checkpoint saw it at {checkpoint.entries}",
            )
        )
    return problems


CHECKPOINT_EVERY = timedelta(minutes=10)


def checkpoint_if_due(
    db: Session, *, path: Path, secret_key: bytes, now: datetime, every: timedelta = CHECKPOINT_EVERY
) -> Checkpoint | None:
    """The worker's periodic step: write a new checkpoint when the last one is older than ``every``.

    A checkpoint that no longer matches the database is never overwritten: the evidence stays for
    ``alscare audit verify`` (the worker logs the refusal instead).
    """
    last = read_checkpoint(path, secret_key=secret_key)
    if last is not None:
        if now - datetime.fromisoformat(last.written_at) < every:
            return None
        if check_against_checkpoint(db, last):
            raise CheckpointUnreadable(
                "the audit trail no longer matches its last checkpoint; run alscare audit verify"
            )
    return write_checkpoint(db, path=path, secret_key=secret_key, now=now)
