"""Navigation entry and role grant of the book migration (imported by ``lending.nav``)."""

from django.utils.translation import gettext_lazy as _

from credo.accounts.roles import register_role_permissions
from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("上传存量贷款"),
        "lending:book_imports",
        "database-import",
        permission="lending.import_book",
        section="lending",
        order=45,
    )
)
# 存量迁移 creates loans outside origination: admin only by default, like 新建贷款.
register_role_permissions("admin", ["lending.import_book"])
