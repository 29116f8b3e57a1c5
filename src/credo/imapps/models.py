"""企业微信 / 钉钉 self-built apps: one configuration per platform, the platform identities of
Credo users, the department → org unit mapping, sync runs and the single-use card links."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.core.fields import EncryptedTextField


class Platform(models.TextChoices):
    WECOM = "wecom", _("企业微信")
    DINGTALK = "dingtalk", _("钉钉")


DEFAULT_BASE_URL = {
    Platform.WECOM: "https://qyapi.weixin.qq.com",
    Platform.DINGTALK: "https://oapi.dingtalk.com",
}
DEFAULT_API_URL = {Platform.WECOM: "", Platform.DINGTALK: "https://api.dingtalk.com"}
DEFAULT_LOGIN_URL = {
    Platform.WECOM: "https://login.work.weixin.qq.com/wwlogin/sso/login",
    Platform.DINGTALK: "https://login.dingtalk.com/oauth2/auth",
}


class ImApp(models.Model):
    """The self-built app (自建应用) of one platform."""

    platform = models.CharField(_("平台"), max_length=10, choices=Platform.choices, unique=True)
    enabled = models.BooleanField(_("启用"), default=False)
    corp_id = models.CharField(_("企业 ID（CorpId）"), max_length=100, blank=True)
    app_key = models.CharField(_("AppKey / ClientId"), max_length=100, blank=True)
    agent_id = models.CharField(_("应用 AgentId"), max_length=40, blank=True)
    secret = EncryptedTextField(_("应用 Secret"), mask_kind="all", blank=True, default="")
    callback_token = EncryptedTextField(_("回调 Token"), mask_kind="all", blank=True, default="")
    callback_aes_key = EncryptedTextField(
        _("回调 EncodingAESKey"), mask_kind="all", blank=True, default=""
    )
    base_url = models.URLField(_("接口地址"), max_length=300, blank=True)
    api_base_url = models.URLField(_("新版接口地址"), max_length=300, blank=True)
    login_url = models.URLField(_("扫码登录地址"), max_length=300, blank=True)
    # cards and callbacks carry absolute links back to Credo
    public_url = models.URLField(_("Credo 访问地址"), max_length=300, blank=True)
    timeout_seconds = models.PositiveSmallIntegerField(_("超时（秒）"), default=10)
    # [{"kind": "dept"|"title", "value": "风控部", "role": "risk_analyst"}, ...]
    role_rules = models.JSONField(_("角色映射规则"), default=list, blank=True)
    default_role = models.CharField(_("默认角色编码"), max_length=40, blank=True)
    root_org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("根部门对应机构（总部）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    default_org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("默认机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sync_enabled = models.BooleanField(_("每日自动同步"), default=False)
    access_token = EncryptedTextField(_("访问令牌"), mask_kind="all", blank=True, default="")
    token_expires_at = models.DateTimeField(_("令牌过期时间"), null=True, blank=True)
    last_test_at = models.DateTimeField(_("最近测试时间"), null=True, blank=True)
    last_test_ok = models.BooleanField(_("最近测试成功"), null=True, blank=True)
    last_test_message = models.CharField(_("最近测试结果"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业微信/钉钉应用")
        verbose_name_plural = _("企业微信/钉钉应用")
        ordering = ["platform"]
        permissions = [("manage_imapps", _("管理企业微信/钉钉应用"))]

    def __str__(self) -> str:
        return str(Platform(self.platform).label)

    @property
    def api_root(self) -> str:
        return (self.base_url or DEFAULT_BASE_URL[Platform(self.platform)]).rstrip("/")

    @property
    def new_api_root(self) -> str:
        return (self.api_base_url or DEFAULT_API_URL[Platform(self.platform)]).rstrip("/")

    @property
    def login_root(self) -> str:
        return self.login_url or DEFAULT_LOGIN_URL[Platform(self.platform)]

    @property
    def configured(self) -> bool:
        key = self.corp_id if self.platform == Platform.WECOM else self.app_key
        return bool(key and self.secret)


class Identity(models.Model):
    """A Credo user's account on a platform (userid)."""

    platform = models.CharField(_("平台"), max_length=10, choices=Platform.choices)
    external_id = models.CharField(_("平台用户 ID"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="im_identities",
    )
    name = models.CharField(_("平台姓名"), max_length=100, blank=True)
    active = models.BooleanField(_("在职"), default=True)
    synced_at = models.DateTimeField(_("同步时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("平台身份")
        verbose_name_plural = _("平台身份")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="imapps_identity_unique_external"
            ),
            models.UniqueConstraint(
                fields=["platform", "user"], name="imapps_identity_unique_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"


class DeptMap(models.Model):
    """A platform department and the org unit it is synced to."""

    platform = models.CharField(_("平台"), max_length=10, choices=Platform.choices)
    external_id = models.CharField(_("部门 ID"), max_length=40)
    parent_external_id = models.CharField(_("上级部门 ID"), max_length=40, blank=True)
    name = models.CharField(_("部门名称"), max_length=100)
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+"
    )
    synced_at = models.DateTimeField(_("同步时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("部门映射")
        verbose_name_plural = _("部门映射")
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="imapps_dept_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.org_unit}"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        DONE = "done", _("成功")
        FAILED = "failed", _("失败")

    platform = models.CharField(_("平台"), max_length=10, choices=Platform.choices)
    trigger = models.CharField(_("触发方式"), max_length=20, default="manual")
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    counts = models.JSONField(_("数量"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("同步记录")
        verbose_name_plural = _("同步记录")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.platform} {self.started_at:%Y-%m-%d %H:%M}"


class UsedLink(models.Model):
    """A card action link that was used (links are single use)."""

    nonce = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )
    used_at = models.DateTimeField()

    class Meta:
        verbose_name = _("已使用的卡片链接")
        verbose_name_plural = _("已使用的卡片链接")

    def __str__(self) -> str:
        return self.nonce
