"""Role grants of the privacy app: only the privacy officer (and the administrator, who holds
every role's rights by default) handles data-subject requests."""

from credo.accounts.roles import register_role_permissions

OFFICER = [
    "privacy.view_datasubjectrequest",
    "privacy.add_datasubjectrequest",
    "privacy.handle_requests",
    "privacy.export_personal_data",
    "privacy.view_inventory",
    "privacy.manage_legal_holds",
    "privacy.view_retentionrun",
    "privacy.run_retention",
    "notify.view_marketingconsent",
    "notify.add_marketingconsent",
    "notify.change_marketingconsent",
    "audit.view_audit_log",  # the officer reviews who read whose data
]

for _code in ("privacy_officer", "admin"):
    register_role_permissions(_code, OFFICER)
