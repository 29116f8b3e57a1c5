"""Lead permissions granted to the built-in roles."""

from credo.accounts.roles import register_role_permissions

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
