"""The tamper-evident hash chain behind the audit log.

Each audit entry stores the hash of the entry before it (``prev_hash``) and its own hash, computed over
that previous hash and the entry's fields. Changing any stored field, deleting a row from the middle,
inserting one, or reordering rows breaks the chain at that point, and ``verify_chain`` says where.

What it does not do: someone who can write to the database at will (a superuser, or an attacker with the
same access) can rewrite every hash from the edited row onwards and produce a chain that verifies, and
deleting rows from the end leaves a shorter chain that still verifies. Detecting that needs the head hash
anchored outside the database — for example published or emailed to the clinic lead on a schedule, or
written to append-only storage — which is future work.

The hash is SHA-256 over ``prev_hash`` (64 hex characters) followed by the fields as canonical JSON
(sorted keys, no whitespace, non-ASCII kept as is, UTF-8 encoded), so it can be recomputed by any other
tool. Field values are strings, integers or None only: floats and datetimes have more than one text form,
so store them as strings in a fixed format before hashing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

FieldValue = str | int | None

GENESIS: Final = "0" * 64

BROKEN_LINK: Final = "prev_hash does not match the stored hash of the entry before it"
HASH_MISMATCH: Final = "stored hash does not match the entry's fields"
UNHASHABLE: Final = "entry cannot be hashed"

_HASH_PATTERN: Final = re.compile(r"[0-9a-f]{64}")


def canonical_json(fields: Mapping[str, FieldValue]) -> str:
    """The fields as canonical JSON; TypeError for a key that is not a string or an unsupported value."""
    for key, value in fields.items():
        if not isinstance(key, str):
            raise TypeError(f"field names must be strings, not {type(key).__name__}")
        if isinstance(value, bool) or not (value is None or isinstance(value, str | int)):
            raise TypeError(f"field {key!r} must be a string, an integer or None, not {type(value).__name__}")
    return json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, fields: Mapping[str, FieldValue]) -> str:
    """SHA-256 hex of ``prev_hash`` followed by the canonical JSON of ``fields``."""
    if not _HASH_PATTERN.fullmatch(prev_hash):
        raise ValueError("prev_hash must be 64 lowercase hexadecimal characters")
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """A break in the chain: the position of the entry in the sequence checked, its id, and why."""

    index: int
    entry_id: object
    reason: str


def verify_chain(
    entries: Iterable[tuple[object, Mapping[str, FieldValue], str, str]],
) -> list[ChainProblem]:
    """Check a chain given in order as ``(entry_id, fields, prev_hash, stored_hash)``; [] if intact.

    Each entry is checked against its neighbour, so one tampering is reported where it happened:

    - an edited field: ``HASH_MISMATCH`` at that entry;
    - an edited stored hash: ``HASH_MISMATCH`` at that entry and ``BROKEN_LINK`` at the next;
    - a deleted entry: ``BROKEN_LINK`` at the entry that followed it (now at its index);
    - two swapped neighbours: ``BROKEN_LINK`` at both their positions and at the entry after them.

    The entries are read once, so a database cursor can be passed in directly.
    """
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    for index, (entry_id, fields, prev_hash, stored_hash) in enumerate(entries):
        if prev_hash != expected_prev:
            problems.append(ChainProblem(index, entry_id, BROKEN_LINK))
        try:
            recomputed = entry_hash(prev_hash, fields)
        except (TypeError, ValueError) as error:
            problems.append(ChainProblem(index, entry_id, f"{UNHASHABLE}: {error}"))
        else:
            if recomputed != stored_hash:
                problems.append(ChainProblem(index, entry_id, HASH_MISMATCH))
        expected_prev = stored_hash
    return problems
