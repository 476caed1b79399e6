"""Play on-call for a human-in-the-loop task of a ``dag.test()`` run.

``dag.test()`` keeps a run alive while a task waits in ``awaiting_input`` until something writes the
answer into the metadata DB (Airflow 3.3, ``DAG.test``). This thread does what a person and the
scheduler would: it waits for the task to ask, keeps what was asked (subject, body), then either
answers through Airflow's own handler of the Required actions page's request
(``PATCH .../hitlDetails``, called in-process) or lets the response deadline pass and runs the
scheduler's own timeout sweep (``check_awaiting_input_timeouts``). The REST API itself is exercised
by the real-scheduler test.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

TIMEOUT = "timeout"
MARK_SUCCESS = "mark-success"  # no answer: the task is marked success by hand (the UI's "Mark as success")


class HitlAnswer(threading.Thread):
    """``with HitlAnswer("Reject") as answer: run_dag(...)``; then ``answer.asked`` holds the request."""

    def __init__(self, answer: str, dag_id: str = "clob_promotion", task_id: str = "approve_swap", wait_s: float = 300) -> None:
        super().__init__(daemon=True)
        self.answer, self.dag_id, self.task_id, self.wait_s = answer, dag_id, task_id, wait_s
        self.asked: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def __enter__(self) -> HitlAnswer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.join(timeout=30)
        if self.error is not None:
            raise AssertionError(f"answering {self.task_id} failed: {self.error!r}") from self.error

    def run(self) -> None:
        try:
            ti = self._wait_until_asked()
            if ti is not None:
                self._respond(ti)
        except BaseException as exc:  # reported by __exit__; answer anyway so dag.test() does not hang
            self.error = exc
            self._fallback_reject()

    def _waiting_ti(self) -> Any:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import select
        from sqlalchemy.orm import joinedload

        with create_session() as session:
            ti = session.scalar(
                select(TaskInstance)
                .where(
                    TaskInstance.dag_id == self.dag_id,
                    TaskInstance.task_id == self.task_id,
                    TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                )
                .options(joinedload(TaskInstance.hitl_detail))
            )
            if ti is None or ti.hitl_detail is None:
                return None
            detail = ti.hitl_detail
            self.asked = {"subject": detail.subject, "body": detail.body, "options": list(detail.options)}
            session.expunge(ti)
            return ti

    def _wait_until_asked(self) -> Any:
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline:
            if (ti := self._waiting_ti()) is not None:
                return ti
            time.sleep(0.3)
        return None  # never asked: the test's own assertions say why

    def _respond(self, ti: Any) -> None:
        if self.answer == TIMEOUT:
            self._time_out(ti)
            return
        if self.answer == MARK_SUCCESS:
            self._mark_success(ti)
            return
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
        from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
        from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
        from airflow.utils.session import create_session

        with create_session() as session:
            update_hitl_detail(
                dag_id=ti.dag_id,
                dag_run_id=ti.run_id,
                task_id=ti.task_id,
                update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=[self.answer]),
                user=SimpleAuthManagerUser(username="oncall", role="admin"),
                session=session,
                map_index=ti.map_index,
            )

    def _time_out(self, ti: Any) -> None:
        """The response deadline passes (moved into the past instead of waiting for it), then the
        scheduler's sweep resolves the task as it would on its next loop."""
        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils import timezone
        from airflow.utils.session import create_session
        from sqlalchemy import update

        with create_session() as session:
            deadline = session.get(TaskInstance, ti.id).trigger_timeout
            assert deadline is not None, "the approval task set no response deadline"
            session.execute(
                update(TaskInstance)
                .where(TaskInstance.id == ti.id)
                .values(trigger_timeout=timezone.utcnow() - timedelta(seconds=1))
            )
        SchedulerJobRunner.check_awaiting_input_timeouts(SimpleNamespace(log=logging.getLogger("scheduler-sweep")))
        self.deadline = deadline

    def _mark_success(self, ti: Any) -> None:
        """What the grid's "Mark as success" does to the waiting task: its state, no answer."""
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils import timezone
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import update

        with create_session() as session:
            session.execute(
                update(TaskInstance)
                .where(TaskInstance.id == ti.id)
                .values(state=TaskInstanceState.SUCCESS, end_date=timezone.utcnow())
            )

    def _fallback_reject(self) -> None:
        try:
            if (ti := self._waiting_ti()) is not None:
                self.answer = "Reject"
                self._respond(ti)
        except Exception:  # noqa: BLE001 - best effort; the original error is reported
            pass
