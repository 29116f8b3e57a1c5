"""What origination contributes to other apps' hooks: the approval outcome listener and the
approval task's subject panel, the contract signed/closed listeners, the demo seeder."""

from credo.approvals.panels import register_subject_panel
from credo.approvals.services import register_outcome_listener
from credo.contracts.services import register_closed_listener, register_signed_listener
from credo.lending.exposure.selectors import register_commitment_source
from credo.origination import demo, restructure_approval, services
from credo.origination.approval_panel import render_panel
from credo.origination.services import applications, contract_loan

register_outcome_listener(services.FLOW_KEY, services.on_approval_outcome)
# after the decision is recorded: the 审批时抵押率 (approved amount over current valuations)
register_outcome_listener(services.FLOW_KEY, applications.on_approval_ltv)
register_subject_panel(services.SUBJECT_TYPE, render_panel)
register_signed_listener(services.on_contract_signed)
# 集中度 (issue 22): approved applications not yet booked count in the exposure
register_commitment_source(contract_loan.approved_unbooked_fen)
register_closed_listener(services.on_contract_closed)
demo.register()
restructure_approval.register()
