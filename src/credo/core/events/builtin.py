"""The built-in event catalogue: the business events of Credo's own apps (audit actions).

Apps that are not core may register more from their own ``ready()`` (``register_event``).
Only business events are listed (creations, changes, transitions, money movements, promises,
alerts …); reads, refusals, logins and configuration changes are audit rows but not events an
automation or a webhook subscription should start from. ``object_type`` is the audit row's
``app_label.model``. Close-of-business status changes are written as one audit row per chunk
(``loan.eod_status``, the loans listed in its metadata), so automations offer the close of
business results as their own trigger kind rather than as this event.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from credo.core.events.catalogue import register_event

_G_CUSTOMER = _("客户")
_G_LEAD = _("线索")
_G_APPLICATION = _("贷款申请")
_G_APPROVAL = _("审批")
_G_CONTRACT = _("合同")
_G_LOAN = _("贷款")
_G_COLLATERAL = _("押品与保证")
_G_COLLECTIONS = _("催收")
_G_MONITORING = _("贷后监控")
_G_FIELDWORK = _("现场检查")
_G_TODO = _("待办")

_CUSTOMER = "customers.customer"
_LEAD = "leads.lead"
_APP = "origination.application"
_APPROVAL = "approvals.approvalinstance"
_CONTRACT = "contracts.contract"
_LOAN = "lending.loan"
_CASE = "collections.collectioncase"
_PROMISE = "collections.promisetopay"

# (key, label, object_type, group, fields)
_EVENTS: list[tuple[str, object, str, object, tuple[str, ...]]] = [
    # customers
    ("customer.create", _("客户新建"), _CUSTOMER, _G_CUSTOMER, ("kind", "name", "industry")),
    (
        "customer.update",
        _("客户资料变更"),
        _CUSTOMER,
        _G_CUSTOMER,
        ("name", "status", "risk_grade"),
    ),
    ("customer.reassign", _("客户移交"), _CUSTOMER, _G_CUSTOMER, ("owner",)),
    ("customer.risk_flag", _("客户风险标记变更"), _CUSTOMER, _G_CUSTOMER, ("risk_flags",)),
    ("customer.contact_add", _("客户联系人新增"), _CUSTOMER, _G_CUSTOMER, ()),
    ("customer.relation_add", _("关联方新增"), "customers.relation", _G_CUSTOMER, ()),
    ("customer.relation_remove", _("关联方移除"), "customers.relation", _G_CUSTOMER, ()),
    (
        "customer.authorization_record",
        _("查询授权登记"),
        "customers.authorization",
        _G_CUSTOMER,
        (),
    ),
    ("customer.external_pull", _("外部数据查询"), _CUSTOMER, _G_CUSTOMER, ()),
    # leads
    ("lead.create", _("线索新建"), _LEAD, _G_LEAD, ("source", "stage")),
    ("lead.update", _("线索资料变更"), _LEAD, _G_LEAD, ()),
    ("lead.assign", _("线索自动分配"), _LEAD, _G_LEAD, ("owner",)),
    ("lead.assign_manual", _("线索人工分配"), _LEAD, _G_LEAD, ("owner",)),
    ("lead.stage", _("线索阶段变更"), _LEAD, _G_LEAD, ("stage",)),
    ("lead.follow_up", _("线索跟进"), _LEAD, _G_LEAD, ()),
    ("lead.convert", _("线索转化为客户"), _LEAD, _G_LEAD, ()),
    ("lead.merge", _("线索合并"), _LEAD, _G_LEAD, ()),
    # applications (status transitions are ``application.<new status>``)
    ("application.create", _("贷款申请新建"), _APP, _G_APPLICATION, ("amount", "product")),
    ("application.submitted", _("贷款申请提交"), _APP, _G_APPLICATION, ("status",)),
    ("application.admission_rejected", _("准入拒绝"), _APP, _G_APPLICATION, ("status",)),
    ("application.in_approval", _("贷款申请进入审批"), _APP, _G_APPLICATION, ("status",)),
    ("application.returned", _("贷款申请退回补充"), _APP, _G_APPLICATION, ("status",)),
    ("application.approved", _("贷款申请审批通过"), _APP, _G_APPLICATION, ("status",)),
    ("application.rejected", _("贷款申请审批拒绝"), _APP, _G_APPLICATION, ("status",)),
    ("application.contract_sent", _("贷款申请合同待签"), _APP, _G_APPLICATION, ("status",)),
    ("application.signed", _("贷款申请合同已签"), _APP, _G_APPLICATION, ("status",)),
    ("application.loan_created", _("贷款申请已生成贷款"), _APP, _G_APPLICATION, ("status",)),
    ("application.withdrawn", _("贷款申请撤回"), _APP, _G_APPLICATION, ("status",)),
    ("document.upload", _("申请资料上传"), "origination.document", _G_APPLICATION, ()),
    ("document.accept", _("申请资料审核通过"), "origination.document", _G_APPLICATION, ("status",)),
    ("document.reject", _("申请资料退回"), "origination.document", _G_APPLICATION, ("status",)),
    # approvals
    ("approval.start", _("审批发起"), _APPROVAL, _G_APPROVAL, ()),
    ("approval.approve", _("审批同意（单步）"), _APPROVAL, _G_APPROVAL, ()),
    ("approval.return", _("审批退回"), _APPROVAL, _G_APPROVAL, ()),
    ("approval.transfer", _("审批转交"), _APPROVAL, _G_APPROVAL, ()),
    ("approval.escalate", _("审批超时升级"), _APPROVAL, _G_APPROVAL, ()),
    ("approval.approved", _("审批通过"), _APPROVAL, _G_APPROVAL, ("status",)),
    ("approval.rejected", _("审批拒绝"), _APPROVAL, _G_APPROVAL, ("status",)),
    ("approval.returned", _("审批退回补充"), _APPROVAL, _G_APPROVAL, ("status",)),
    ("approval.cancelled", _("审批撤销"), _APPROVAL, _G_APPROVAL, ()),
    ("approval.resume", _("审批恢复"), _APPROVAL, _G_APPROVAL, ()),
    # contracts
    ("contracts.generated", _("合同生成"), _CONTRACT, _G_CONTRACT, ()),
    ("contracts.sent", _("合同发送签署"), _CONTRACT, _G_CONTRACT, ()),
    ("contracts.signed", _("合同已签署"), _CONTRACT, _G_CONTRACT, ()),
    ("contracts.rejected", _("合同拒签"), _CONTRACT, _G_CONTRACT, ()),
    ("contracts.expired", _("合同过期"), _CONTRACT, _G_CONTRACT, ()),
    ("contracts.cancelled", _("合同作废"), _CONTRACT, _G_CONTRACT, ()),
    # loans
    ("loan.create", _("贷款生成"), _LOAN, _G_LOAN, ("principal", "months")),
    ("loan.create_direct", _("贷款直接录入"), _LOAN, _G_LOAN, ("principal", "months")),
    ("loan.disburse", _("贷款放款"), _LOAN, _G_LOAN, ("status",)),
    ("loan.repayment", _("还款入账"), _LOAN, _G_LOAN, ("amount",)),
    ("loan.repayment_reverse", _("还款冲正"), _LOAN, _G_LOAN, ()),
    ("loan.prepay", _("提前还款"), _LOAN, _G_LOAN, ("amount",)),
    ("loan.charge", _("贷款费用收取"), _LOAN, _G_LOAN, ()),
    ("loan.charge_reverse", _("贷款费用冲正"), _LOAN, _G_LOAN, ()),
    ("loan.waiver", _("减免入账"), _LOAN, _G_LOAN, ()),
    ("loan.reprice", _("利率重定价"), _LOAN, _G_LOAN, ("annual_rate",)),
    ("loan.classification_manual", _("五级分类人工认定"), _LOAN, _G_LOAN, ("classification",)),
    ("loan.restructure_request", _("重组申请"), _LOAN, _G_LOAN, ()),
    ("loan.restructure_approve", _("重组批准"), _LOAN, _G_LOAN, ()),
    ("loan.restructure_reject", _("重组驳回"), _LOAN, _G_LOAN, ()),
    ("loan.restructure_execute", _("重组生效"), _LOAN, _G_LOAN, ()),
    ("loan.write_off", _("贷款核销"), _LOAN, _G_LOAN, ("status",)),
    ("loan.recovery", _("核销后收回"), _LOAN, _G_LOAN, ()),
    ("loan.replay", _("倒起息重算"), _LOAN, _G_LOAN, ()),
    ("credit_limit.set", _("授信额度设定"), "lending.creditlimit", _G_LOAN, ("amount",)),
    ("credit_limit.freeze", _("授信额度冻结"), "lending.creditlimit", _G_LOAN, ()),
    ("credit_limit.unfreeze", _("授信额度解冻"), "lending.creditlimit", _G_LOAN, ()),
    ("waiver.request", _("减免申请"), "lending.waiverrequest", _G_LOAN, ()),
    ("waiver.approve", _("减免批准"), "lending.waiverrequest", _G_LOAN, ()),
    ("classification.request", _("分类调整申请"), "lending.classificationrequest", _G_LOAN, ()),
    ("classification.approve", _("分类调整批准"), "lending.classificationrequest", _G_LOAN, ()),
    # collateral and guarantees
    ("collateral.create", _("押品登记"), "collateral.collateral", _G_COLLATERAL, ("kind", "value")),
    ("collateral.update", _("押品信息变更"), "collateral.collateral", _G_COLLATERAL, ()),
    (
        "collateral.register",
        _("押品抵押登记"),
        "collateral.collateral",
        _G_COLLATERAL,
        ("expires_on",),
    ),
    ("collateral.valuation_add", _("押品重估"), "collateral.collateral", _G_COLLATERAL, ("value",)),
    ("collateral.link", _("押品关联贷款"), "collateral.collateral", _G_COLLATERAL, ()),
    ("collateral.release_request", _("解押申请"), "collateral.releaserequest", _G_COLLATERAL, ()),
    ("collateral.release_approve", _("解押批准"), "collateral.releaserequest", _G_COLLATERAL, ()),
    ("collateral.release_reject", _("解押驳回"), "collateral.releaserequest", _G_COLLATERAL, ()),
    ("collateral.release", _("押品解押"), "collateral.collateral", _G_COLLATERAL, ()),
    ("guarantee.create", _("保证登记"), "collateral.guarantee", _G_COLLATERAL, ()),
    ("guarantee.update", _("保证信息变更"), "collateral.guarantee", _G_COLLATERAL, ()),
    ("guarantee.activate", _("保证合同生效"), "collateral.guarantee", _G_COLLATERAL, ()),
    ("guarantee.release", _("保证解除"), "collateral.guarantee", _G_COLLATERAL, ()),
    # collections
    ("collections.reassign", _("催收案件改派"), _CASE, _G_COLLECTIONS, ("assignee",)),
    ("collections.contact", _("催收联系记录"), "collections.contactattempt", _G_COLLECTIONS, ()),
    ("collections.promise", _("承诺还款登记"), _PROMISE, _G_COLLECTIONS, ("amount", "due_date")),
    ("collections.promise_kept", _("承诺还款兑现"), _PROMISE, _G_COLLECTIONS, ("status",)),
    ("collections.promise_broken", _("承诺还款违约"), _PROMISE, _G_COLLECTIONS, ("status",)),
    ("collections.do_not_contact", _("勿联系登记"), "collections.donotcontact", _G_COLLECTIONS, ()),
    ("collections.letter_generated", _("律师函生成"), _CASE, _G_COLLECTIONS, ()),
    # monitoring
    (
        "monitoring.alert_created",
        _("预警产生（事件触发）"),
        "monitoring.alert",
        _G_MONITORING,
        ("severity",),
    ),
    ("monitoring.alert_acknowledge", _("预警确认"), "monitoring.alert", _G_MONITORING, ()),
    ("monitoring.alert_contact", _("预警联系客户"), "monitoring.alert", _G_MONITORING, ()),
    (
        "monitoring.alert_request_guarantee",
        _("预警要求追加担保"),
        "monitoring.alert",
        _G_MONITORING,
        (),
    ),
    ("monitoring.alert_adjust_limit", _("预警调整授信额度"), "monitoring.alert", _G_MONITORING, ()),
    ("monitoring.alert_freeze_limit", _("预警冻结授信额度"), "monitoring.alert", _G_MONITORING, ()),
    ("monitoring.alert_escalate", _("预警升级"), "monitoring.alert", _G_MONITORING, ()),
    ("monitoring.alert_close", _("预警关闭"), "monitoring.alert", _G_MONITORING, ()),
    (
        "monitoring.retention_approved",
        _("续贷建议批准"),
        "monitoring.retentionsuggestion",
        _G_MONITORING,
        (),
    ),
    (
        "monitoring.retention_rejected",
        _("续贷建议驳回"),
        "monitoring.retentionsuggestion",
        _G_MONITORING,
        (),
    ),
    # fieldwork
    ("fieldwork.visit_recorded", _("走访记录"), "fieldwork.visit", _G_FIELDWORK, ()),
    (
        "fieldwork.inspection_completed",
        _("贷后检查完成"),
        "fieldwork.inspection",
        _G_FIELDWORK,
        ("result",),
    ),
    # todos
    ("todo.create", _("待办新建"), "todo.todo", _G_TODO, ()),
    ("todo.complete", _("待办完成"), "todo.todo", _G_TODO, ()),
]

for _key, _label, _object_type, _group, _fields in _EVENTS:
    register_event(_key, _label, _object_type, group=_group, fields=_fields)
