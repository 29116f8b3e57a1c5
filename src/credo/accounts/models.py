"""Users, organisation units, roles with permission sets and data scopes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgUnit(models.Model):
    """Head office → branches → teams. Business records carry their owner's team and branch."""

    class Kind(models.TextChoices):
        HEAD_OFFICE = "head_office", _("总部")
        BRANCH = "branch", _("分支机构")
        TEAM = "team", _("团队")

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("组织机构")
        verbose_name_plural = _("组织机构")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def branch(self) -> OrgUnit | None:
        """The branch this unit belongs to (itself for a branch, its parent for a team)."""
        unit: OrgUnit | None = self
        while unit is not None and unit.kind != self.Kind.BRANCH:
            unit = unit.parent
        return unit


class DataScope(models.TextChoices):
    """How much of the lender's book a role sees. Ordered from narrowest to widest."""

    OWN = "own", _("本人")
    TEAM = "team", _("本团队")
    BRANCH = "branch", _("本机构")
    ALL = "all", _("全部")


SCOPE_ORDER = [DataScope.OWN, DataScope.TEAM, DataScope.BRANCH, DataScope.ALL]


class Role(models.Model):
    """A role (客户经理, 风控经理, ...) = a permission set + a data scope, editable by an admin."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60, unique=True)
    description = models.TextField(_("说明"), blank=True)
    data_scope = models.CharField(
        _("数据范围"), max_length=10, choices=DataScope.choices, default=DataScope.OWN
    )
    permissions = models.ManyToManyField(
        Permission, verbose_name=_("权限"), blank=True, related_name="credo_roles"
    )
    is_system = models.BooleanField(_("系统内置"), default=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    employee_no = models.CharField(_("工号"), max_length=30, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属机构/团队"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("角色"), blank=True, related_name="users")

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [
            ("manage_users", _("管理用户")),
            ("manage_roles", _("管理角色、权限与字段权限")),
            ("manage_org_units", _("管理组织机构")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def team(self) -> OrgUnit | None:
        unit = self.org_unit
        return unit if unit is not None and unit.kind == OrgUnit.Kind.TEAM else None

    @property
    def branch(self) -> OrgUnit | None:
        return self.org_unit.branch if self.org_unit is not None else None

    @property
    def role_codes(self) -> set[str]:
        cache = getattr(self, "_role_codes_cache", None)
        if cache is None:
            cache = {code for code, _name, _scope in self._authz_roles()}
            self._role_codes_cache = cache
        return cache

    @property
    def role_names(self) -> list[str]:
        """The names of the user's roles (the page header shows them on every page)."""
        return [name for _code, name, _scope in self._authz_roles()]

    def _authz_roles(self) -> list[tuple[str, str, str]]:
        from credo.accounts.usercache import authz

        return authz(self)["roles"]  # type: ignore[no-any-return]

    @property
    def data_scope(self) -> str:
        """The widest scope among the user's roles (a superuser sees everything)."""
        if self.is_superuser:
            return DataScope.ALL
        scopes = {scope for _code, _name, scope in self._authz_roles()}
        widest = DataScope.OWN
        for scope in SCOPE_ORDER:
            if scope in scopes:
                widest = scope
        return widest


class FieldPermission(models.Model):
    """Whether a role sees a sensitive field in clear (``can_view``) and may change it
    (``can_edit``). Without a row the field is masked for that role."""

    role = models.ForeignKey(
        Role, verbose_name=_("角色"), on_delete=models.CASCADE, related_name="field_permissions"
    )
    field_key = models.CharField(_("字段"), max_length=150)
    can_view = models.BooleanField(_("可查看明文"), default=False)
    can_edit = models.BooleanField(_("可编辑"), default=False)

    class Meta:
        verbose_name = _("字段权限")
        verbose_name_plural = _("字段权限")
        ordering = ["role_id", "field_key"]
        constraints = [
            models.UniqueConstraint(fields=["role", "field_key"], name="uniq_role_field_key")
        ]

    def __str__(self) -> str:
        return f"{self.role} · {self.field_key}"
