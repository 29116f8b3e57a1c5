"""Role grants of collections: what each role may do with collection cases."""

from credo.accounts.roles import register_role_permissions

BASE = ["collections.view_collectioncase", "collections.contact_case"]
MANAGER = [
    *BASE,
    "collections.manage_cases",
    "collections.view_compliance",
    "collections.change_collectionscript",
]

register_role_permissions("collector_junior", BASE)
register_role_permissions("collector_senior", [*BASE, "collections.manage_cases"])
for _code in ("risk_manager", "management"):
    register_role_permissions(_code, MANAGER)
