"""The shipped default flow(s): installed as published version 1 on first use."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from credo.core.registry import Registry

ORIGINATION_FLOW = "origination.application"

# Amounts in fen. The team lead (分支机构负责人) decides up to 500,000 yuan; larger amounts go
# to the countersign route where no single approver carries the decision.
ORIGINATION_DEFINITION: dict[str, Any] = {
    # segregation of duties: whoever decided one step does not decide another
    "allow_same_approver_across_steps": False,
    "routes": {
        "auto": {"name": "自动审批", "steps": []},
        "standard": {
            "name": "标准审批",
            "steps": [
                {
                    "name": "分支机构负责人审批",
                    "mode": "any",
                    "approvers": [{"role": "team_lead"}],
                    "branch_scoped": True,
                    "deadline_hours": 24,
                    "escalate_to": {"role": "credit_committee"},
                    "max_amount": 50_000_000,
                },
                {
                    "name": "风控经理审批",
                    "mode": "any",
                    "approvers": [{"role": "risk_manager"}],
                    "deadline_hours": 24,
                    "escalate_to": {"role": "credit_committee"},
                    "max_amount": None,
                },
            ],
        },
        "large": {
            "name": "大额会签",
            "steps": [
                {
                    "name": "风控、财务、总经理会签",
                    "mode": "all",
                    "approvers": [
                        {"role": "risk_manager"},
                        {"role": "finance"},
                        {"role": "management"},
                    ],
                    "deadline_hours": 48,
                    "escalate_to": {"role": "credit_committee"},
                    "max_amount": None,
                }
            ],
        },
    },
}

# flow key → (name, definition); the first registration of a key wins
default_flows: Registry[tuple[Any, dict[str, Any]]] = Registry(
    "default approval flows", on_duplicate="keep"
)
default_flows.register(ORIGINATION_FLOW, (_("贷款申请审批"), ORIGINATION_DEFINITION))


def register_flow(key: str, name: Any, definition: dict[str, Any]) -> None:
    """Other apps may ship their own default flow (installed on first use)."""
    default_flows.register(key, (name, definition))
