"""Navigation entry of the todo list."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(NavItem(_("我的待办"), "todo:list", "checklist", section="work", order=10))
