"""On-call's yes or no before a swap: Airflow's human-in-the-loop ``ApprovalOperator`` with the audit
as its body, shown on the run's "Required actions" page (and answerable through the REST API).

On Airflow 3.3 the task waits in the ``awaiting_input`` state: no worker slot, no pool slot, no
triggerer; the answer (or the scheduler's timeout sweep) resumes it in ``execute_complete``. What this
subclass adds to the provider's operator:

- the Param ``approval``: ``auto`` approves without asking (scripted runs, ``make demo``) and logs so;
- the Param ``approval_timeout_minutes`` sets the provider's ``response_timeout`` per run;
- a rejection or a timeout *fails* the task with a message that says what happened and that nothing
  was swapped (no retry: the data did not change), so the swap is ``upstream_failed`` and the pause's
  teardown ends the run red. The provider would otherwise skip the swap on a rejection, and a run
  whose swap was skipped reads as a completed one. A rejection is a person's decision: it fails
  quietly (no alert); a timeout alerts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.exceptions import HITLRejectException, HITLTimeoutError
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk.exceptions import AirflowFailException

from clob_pipeline.run_state import QuietFailure


class SwapRejectedError(QuietFailure):
    """On-call rejected the swap: the run ends red, nothing swapped, and no alert (a person decided)."""


class SwapApprovalOperator(ApprovalOperator):
    """Ask for approval of ``operation`` (the audit's summary is the templated ``body``), unless the
    run's ``approval`` Param is ``auto``."""

    def __init__(self, *, operation: str, **kwargs: Any) -> None:
        super().__init__(fail_on_reject=True, **kwargs)
        self.operation = operation

    def execute(self, context: Any) -> Any:
        params = context["params"]
        if params.get("approval") == "auto":
            self.log.info("%s approved automatically (Param approval=auto): nobody was asked", self.operation)
            return {"chosen_options": [self.APPROVE], "params_input": {}, "responded_by_user": None, "approval": "auto"}
        self.response_timeout = timedelta(minutes=int(params["approval_timeout_minutes"]))
        self.log.info(
            "waiting for on-call to approve the %s on the run's Required actions page%s; no answer within %d minutes "
            "ends the run red with nothing swapped",
            self.operation,
            f" ({link})" if (link := self._link(context)) else "",
            params["approval_timeout_minutes"],
        )
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        try:
            answer = super().execute_complete(context=context, event=event)
        except HITLRejectException:
            who = (event.get("responded_by_user") or {}).get("name", "someone")
            raise SwapRejectedError(
                f"{self.operation} REJECTED by {who} at {event.get('responded_at')}: nothing was swapped; "
                "resume_ingestion releases the pause. Fix what the audit report shows, then trigger again."
            ) from None
        except HITLTimeoutError:
            raise AirflowFailException(
                f"{self.operation} NOT APPROVED: nobody answered within {context['params']['approval_timeout_minutes']} "
                "minutes, so nothing was swapped; resume_ingestion releases the pause. Trigger the DAG again when "
                "someone can review the audit report."
            ) from None
        who = (answer.get("responded_by_user") or {}).get("name", "the timeout default")
        self.log.info("%s APPROVED by %s at %s: swapping", self.operation, who, answer.get("responded_at"))
        return answer

    def _link(self, context: Any) -> str | None:
        """The Required actions page of this task, when the deployment sets ``[api] base_url``."""
        try:
            return self.generate_link_to_ui_from_context(context=context)
        except ValueError:
            return None
