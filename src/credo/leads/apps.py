from pathlib import Path

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "credo.leads"
    label = "leads"
    verbose_name = _("线索")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.scheduling.registry import register_schedule
        from credo.core.ui.nav import NavItem, register_nav
        from credo.rules.registry import DecisionSpec, register_decision
        from credo.rules.services import recorded_inputs

        register_decision(
            DecisionSpec(
                key="leads.assignment",
                name=str(_("线索分配")),
                default=Path(__file__).resolve().parent / "decisions" / "assignment.json",
                description=str(
                    _(
                        "按地区（市级代码）、业务类型、意向金额（元）、来源渠道决定线索归属的团队"
                        "或客户经理；团队内按 24 小时内分配数最少轮询，受在手上限约束。"
                    )
                ),
                inputs=[
                    ("region", str(_("地区（市级代码）"))),
                    ("business_type", str(_("业务类型"))),
                    ("amount", str(_("意向金额（元）"))),
                    ("source", str(_("来源渠道"))),
                ],
                outputs=[
                    ("team", str(_("团队编码"))),
                    ("user", str(_("客户经理用户名"))),
                    ("reason", str(_("原因"))),
                ],
                history=recorded_inputs("leads.assignment"),
                sample={"region": "140100", "business_type": "operating", "amount": 300000},
                tests=[
                    {
                        "name": "太原经营贷 → 太原一组",
                        "input": {
                            "region": "140100",
                            "business_type": "operating",
                            "amount": 300000,
                            "source": "online",
                        },
                        "expected": {"team": "ty-a"},
                    },
                    {
                        "name": "太原抵押贷 → 太原二组",
                        "input": {"region": "140100", "business_type": "mortgage", "amount": 1},
                        "expected": {"team": "ty-b"},
                    },
                    {
                        "name": "大同 → 大同一组",
                        "input": {"region": "140200", "business_type": "consumer", "amount": 1},
                        "expected": {"team": "dt-a"},
                    },
                ],
            )
        )
        register_schedule(
            "leads.assign_unassigned", "credo.leads.tasks.assign_unassigned", "*/10 * * * *"
        )
        register_schedule(
            "leads.follow_up_reminders", "credo.leads.tasks.follow_up_reminders", "30 8 * * *"
        )
        from credo.notify.services import register_template

        register_template(
            "leads.follow_up_due",
            name=str(_("线索跟进提醒")),
            subject="今日需跟进线索：{{ lead }}",
            body="线索“{{ lead }}”的计划跟进日期为 {{ date }}，请及时跟进并记录。",
            channels=["inapp", "email", "wecom", "dingtalk"],
            sample={"lead": "太原某某商贸有限公司", "date": "2026-12-01"},
        )

        register_nav(
            NavItem(
                _("线索"), "leads:list", "target-arrow", "leads.view_lead", "customers", order=5
            )
        )
        register_nav(
            NavItem(
                _("线索看板"),
                "leads:board",
                "layout-kanban",
                "leads.view_lead",
                "customers",
                order=6,
            )
        )
        register_nav(
            NavItem(
                _("线索漏斗"), "leads:funnel", "filter", "leads.view_lead", "customers", order=7
            )
        )
        register_nav(
            NavItem(
                _("线索导入"), "leads:import", "file-import", "leads.import_leads", "customers", 8
            )
        )
        register_nav(
            NavItem(
                _("离职移交"),
                "leads:book_reassign",
                "transfer",
                "leads.reassign_book",
                "system",
                order=60,
            )
        )

        register_nav(
            NavItem(
                _("线索分配设置"),
                "leads:assignees",
                "users-group",
                "leads.assign_lead",
                "customers",
                order=9,
            )
        )
        from credo.core.ui.search import register_search_provider
        from credo.leads.selectors import search_leads

        register_search_provider(
            "leads", _("线索"), search_leads, permission="leads.view_lead", order=15
        )

        own = ["leads.view_lead", "leads.add_lead", "leads.change_lead", "leads.convert_lead"]
        register_role_permissions("account_manager", own)
        register_role_permissions(
            "team_lead", [*own, "leads.assign_lead", "leads.import_leads", "leads.view_followup"]
        )
        register_role_permissions("management", ["leads.view_lead"])
        register_role_permissions(
            "admin",
            [
                *own,
                "leads.delete_lead",
                "leads.assign_lead",
                "leads.import_leads",
                "leads.reassign_book",
                "leads.view_leadassignee",
                "leads.change_leadassignee",
            ],
        )
