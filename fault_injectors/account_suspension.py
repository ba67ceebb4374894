"""Suspend user accounts (Scenario 3 containment), undone by restoring their status."""

from __future__ import annotations

from typing import Any

from drillbook.faults._postgres import check_no_secret, resolve_dsn
from drillbook.faults.base import Change
from drillbook.harness import pg
from drillbook.harness.errors import InvalidDrillConfig


class AccountSuspension(Change):
    """The DR procedures' ``UPDATE users SET status = 'suspended', updated_at = NOW(),
    suspension_reason = 'Security incident' WHERE id IN (...)``: the accounts can no
    longer log in or write.

    A recovery change, not a fault: ``previous`` (each account's status and
    suspension reason, read when the object is built if not given) is restored on
    revert, for the accounts that still carry this change's ``reason`` (an account
    suspended again since, for another reason, is left alone).
    """

    name = "account_suspension"
    blast_radius = "the listed user accounts (no login, no write)"
    rollback = "set each account's previous status and suspension reason again"

    def __init__(
        self,
        user_ids: list[int],
        reason: str = "Security incident",
        dsn: str | None = None,
        dsn_env: str | None = None,
        previous: dict[str, list[str | None]] | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not user_ids or any(isinstance(i, bool) or not isinstance(i, int) for i in user_ids):
            raise InvalidDrillConfig(f"user_ids must be a non-empty list of user ids, not {user_ids!r}")
        if not reason:
            raise InvalidDrillConfig("give a suspension reason (it marks the accounts this change suspended)")
        check_no_secret(dsn)
        self.user_ids, self.reason = sorted(set(user_ids)), reason
        self.dsn, self.dsn_env, self.timeout = dsn, dsn_env, timeout
        if previous is None:
            rows = pg.query(
                self._dsn(),
                "SELECT id, status, suspension_reason FROM users WHERE id = ANY(%s)",
                (self.user_ids,),
                timeout,
            )
            previous = {str(row[0]): [row[1], row[2]] for row in rows}
            missing = sorted(set(self.user_ids) - {int(k) for k in previous})
            if missing:
                raise InvalidDrillConfig(f"no user with id {', '.join(map(str, missing))}")
        self.previous = {str(k): [v[0], v[1]] for k, v in previous.items()}

    def _dsn(self) -> str:
        return resolve_dsn(self.dsn, self.dsn_env)

    def inject(self) -> None:
        pg.query(
            self._dsn(),
            "UPDATE users SET status = 'suspended', updated_at = now(), suspension_reason = %s "
            "WHERE id = ANY(%s)",
            (self.reason, self.user_ids),
            self.timeout,
        )

    def revert(self) -> None:
        with pg.connect(self._dsn(), self.timeout) as conn:
            for user_id, (status, reason) in self.previous.items():
                pg.execute(
                    conn,
                    "UPDATE users SET status = %s, suspension_reason = %s, updated_at = now() "
                    "WHERE id = %s AND suspension_reason IS NOT DISTINCT FROM %s "
                    "AND (status, suspension_reason) IS DISTINCT FROM (%s, %s)",
                    (status, reason, int(user_id), self.reason, status, reason),
                    self.timeout,
                )

    def describe(self) -> dict[str, Any]:
        return {
            "user_ids": self.user_ids,
            "reason": self.reason,
            "dsn": self.dsn,
            "dsn_env": self.dsn_env,
            "previous": self.previous,
            "timeout": self.timeout,
        }
