"""Values read once per transaction and kept in the session until anything could have changed them.

Why: one check-in asks the same questions of the database several times from different domains (may this
person write it, may their clinic receive its alerts, which medicines are listed for the triage and for the
prompts). Each answer is one more round trip, and on a busy server round trips are what a check-in costs.
A memo is forgotten at every commit and rollback (a savepoint's too), at any bulk write statement, and at
any flush that touched a row of one of the models it was declared to depend on; it is not used while such a
row has changes waiting for a flush. So it never returns something this transaction has changed, and it
sees other transactions' changes exactly as a fresh read would at the next transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Final, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")

_KEY: Final = "alscare_memo"  # session.info: {(name, key): (depends_on, value)}


def remembered(db: Session, name: str, key: Hashable, depends_on: tuple[type, ...], load: Callable[[], T]) -> T:
    """``load()``'s value for ``(name, key)``, read at most once per transaction (see the module doc)."""
    memo: dict[tuple[str, Hashable], tuple[tuple[type, ...], Any]] = db.info.setdefault(_KEY, {})
    found = memo.get((name, key))
    if found is not None and any(isinstance(o, depends_on) for o in (*db.new, *db.dirty, *db.deleted)):
        found = None  # a change not flushed yet: read again (the query flushes it first)
    if found is None:
        found = (depends_on, load())
        memo[(name, key)] = found
    value: T = found[1]
    return value


def _forget_all(session: Session, *_args: object) -> None:
    session.info.pop(_KEY, None)


def _forget_changed(session: Session, _context: object) -> None:
    memo = session.info.get(_KEY)
    if not memo:
        return
    changed = {type(o) for o in (*session.new, *session.dirty, *session.deleted)}
    for key, (depends_on, _value) in list(memo.items()):
        if any(issubclass(c, depends_on) for c in changed):
            del memo[key]


def _forget_on_bulk_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        _forget_all(state.session)


event.listen(Session, "after_commit", _forget_all)
event.listen(Session, "after_soft_rollback", _forget_all)
event.listen(Session, "after_flush", _forget_changed)
event.listen(Session, "do_orm_execute", _forget_on_bulk_write)
