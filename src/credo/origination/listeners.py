"""What origination contributes to other apps' hooks: the approval outcome listener and the
approval task's subject panel, the contract signed/closed listeners, the demo seeder."""

from credo.approvals.panels import register_subject_panel
from credo.approvals.services import register_outcome_listener
from credo.contracts.services import register_closed_listener, register_signed_listener
from credo.origination import demo, restructure_approval, services
from credo.origination.approval_panel import render_panel

register_outcome_listener(services.FLOW_KEY, services.on_approval_outcome)
register_subject_panel(services.SUBJECT_TYPE, render_panel)
register_signed_listener(services.on_contract_signed)
register_closed_listener(services.on_contract_closed)
demo.register()
restructure_approval.register()
