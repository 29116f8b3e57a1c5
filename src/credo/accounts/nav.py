"""Navigation entries of user, role and org-unit administration."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("用户"),
        "accounts:user_list",
        "users",
        permission="accounts.manage_users",
        section="system",
        order=10,
    )
)
register_nav(
    NavItem(
        _("角色与权限"),
        "accounts:role_list",
        "shield-lock",
        permission="accounts.manage_roles",
        section="system",
        order=20,
    )
)
register_nav(
    NavItem(
        _("字段权限"),
        "accounts:field_permissions",
        "eye-off",
        permission="accounts.manage_roles",
        section="system",
        order=25,
    )
)
register_nav(
    NavItem(
        _("组织机构"),
        "accounts:orgunit_list",
        "sitemap",
        permission="accounts.manage_org_units",
        section="system",
        order=30,
    )
)
