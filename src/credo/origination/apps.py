from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OriginationConfig(AppConfig):
    name = "credo.origination"
    label = "origination"
    verbose_name = _("贷前申请")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.ui.nav import NavItem, register_nav
        from credo.origination import admission
        from credo.rules.registry import register_decision

        register_decision(admission.SPEC)
        from credo.origination.credit_report import register as register_risk_score

        register_risk_score()
        from credo.notify.services import register_template

        register_template(
            "origination.correction_notice",
            name=str(_("补正通知")),
            subject="贷款申请 {{ number }} 补正通知",
            body="您的贷款申请 {{ number }} 需要补充或更正以下资料：{{ items }}。"
            "{% if note %}说明：{{ note }}。{% endif %}请通过客户经理发送的链接上传。",
            channels=["sms", "email", "inapp"],
            sample={"number": "A202612010001", "items": "营业执照、近六个月银行流水", "note": ""},
        )
        register_template(
            "origination.portal_application",
            name=str(_("客户在线发起申请")),
            subject="客户在线发起贷款申请 {{ number }}",
            body="客户 {{ customer }} 通过在线申请链接发起了贷款申请 {{ number }}："
            "{{ amount }} 元，{{ months }} 个月。请跟进资料上传与提交。",
            channels=["inapp"],
            sample={
                "number": "A202612010001",
                "customer": "太原示例有限公司",
                "amount": "300,000.00",
                "months": 12,
            },
        )
        from credo.origination import demo

        demo.register()
        register_nav(
            NavItem(
                _("贷款申请"),
                "origination:list",
                "file-description",
                permission="origination.view_application",
                section="lending",
                order=5,
            )
        )
        staff = [
            "origination.view_application",
            "origination.add_application",
            "origination.change_application",
            "origination.submit_application",
            "origination.manage_portal_links",
        ]
        for code in ("account_manager", "team_lead"):
            register_role_permissions(code, staff)
        register_role_permissions("team_lead", ["origination.review_documents"])
        for code in ("risk_analyst", "risk_manager", "credit_committee"):
            register_role_permissions(
                code, ["origination.view_application", "origination.review_documents"]
            )
        for code in ("finance", "management", "admin"):
            register_role_permissions(code, ["origination.view_application"])
        self._wire()

    @staticmethod
    def _wire() -> None:
        """Listen to approval outcomes and contract signatures (apps built in parallel)."""
        from credo.origination import services

        try:
            from credo.approvals.services import register_outcome_listener
        except ImportError:
            pass
        else:
            register_outcome_listener(services.FLOW_KEY, services.on_approval_outcome)
        try:
            from credo.approvals.panels import register_subject_panel
        except ImportError:
            pass
        else:
            from credo.origination.approval_panel import render_panel

            register_subject_panel("origination.application", render_panel)
        try:
            from credo.contracts.services import register_signed_listener
        except ImportError:
            pass
        else:
            register_signed_listener(services.on_contract_signed)
            from credo.contracts.services import register_closed_listener

            register_closed_listener(services.on_contract_closed)
