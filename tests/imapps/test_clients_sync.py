from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core.management import call_command
from django.utils import timezone

from credo.accounts.models import OrgUnit, User
from credo.core.audit.models import AuditEntry
from credo.imapps import services
from credo.imapps.clients import client_for, http_json
from credo.imapps.errors import ImAppError
from credo.imapps.models import DeptMap, Identity, ImApp, SyncRun
from credo.notify.models import Channel

pytestmark = pytest.mark.django_db


def test_token_cached_until_expiry_and_refetched_when_rejected(wecom, fake):
    client = client_for(wecom)
    assert client.token() == "tok1"
    assert client.token() == "tok1" and fake.token_fetches == 1
    stored = ImApp.objects.get(pk=wecom.pk)
    assert stored.access_token == "tok1" and stored.token_expires_at > timezone.now()
    # the platform forgets the token (expired early): one new token, the call succeeds
    fake.expire_tokens()
    assert len(client.departments()) == 3
    assert fake.token_fetches == 2
    # our own expiry passed: fetched before the call
    ImApp.objects.filter(pk=wecom.pk).update(token_expires_at=timezone.now() - dt.timedelta(1))
    client.token()
    assert fake.token_fetches == 3


def test_bad_secret_is_a_clear_error_and_audited_test(wecom, fake, admin):
    fake.secret = "rotated"
    ok, message = services.app_test(app=wecom, actor=admin)
    assert not ok and "40001" in message and "平台返回错误" in message
    wecom.refresh_from_db()
    assert wecom.last_test_ok is False
    assert AuditEntry.objects.filter(action="imapps.config_test", metadata__ok=False).exists()
    fake.secret = "s3cret"
    ok, message = services.app_test(app=wecom, actor=admin)
    assert ok and "3 个部门" in message


def test_timeout_is_transient_chinese_error(wecom, fake):
    ImApp.objects.filter(pk=wecom.pk).update(timeout_seconds=1)
    wecom.refresh_from_db()
    fake.delay = 1.5
    with pytest.raises(ImAppError) as exc:
        client_for(wecom).token(refresh=True)
    assert exc.value.transient and "超时" in exc.value.message


def test_http_error_is_final_and_refused_connection_transient(wecom, fake):
    with pytest.raises(ImAppError) as exc:
        client_for(wecom).call("GET", "/cgi-bin/no-such-endpoint")
    assert not exc.value.transient
    assert (
        exc.value.message.startswith("平台接口返回 HTTP 404：") and "not found" in exc.value.message
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ImAppError) as exc:
        http_json("GET", f"http://127.0.0.1:{port}/gettoken", timeout=2)
    assert exc.value.transient and exc.value.message.startswith("无法连接平台接口：")


def test_config_save_audits_secret_masked_and_creates_channel(wecom, admin):
    entry = AuditEntry.objects.filter(action="imapps.config_save").latest("id")
    assert "s3cret" not in str(entry.changes) and "secret" in entry.changes
    assert Channel.objects.get(engine="wecom_app").enabled
    wecom.role_rules = [{"kind": "dept", "value": "x", "role": "no-such-role"}]
    with pytest.raises(ImAppError, match="不存在"):
        services.app_save(app=wecom, secrets={}, actor=admin)


def test_wecom_sync_creates_units_users_roles_and_run_log(wecom, fake, org, admin):
    run = services.sync_run(platform="wecom", actor=admin)
    assert run.status == SyncRun.Status.DONE, run.error
    assert run.counts["users_created"] == 2 and run.counts["units_created"] == 2
    branch = OrgUnit.objects.get(code="wecom-2")
    team = OrgUnit.objects.get(code="wecom-3")
    assert (branch.kind, branch.parent, branch.name) == ("branch", org["head"], "太原分公司")
    assert (team.kind, team.parent) == ("team", branch)
    zhang = Identity.objects.get(platform="wecom", external_id="zhangsan").user
    li = Identity.objects.get(platform="wecom", external_id="lisi").user
    assert zhang.display_name == "张三" and zhang.org_unit == branch
    assert zhang.role_codes == {"account_manager"}
    assert li.org_unit == team and li.role_codes == {"risk_analyst"}
    assert not zhang.has_usable_password()
    assert DeptMap.objects.filter(platform="wecom").count() == 3
    assert AuditEntry.objects.filter(action="user.create").count() >= 2
    assert AuditEntry.objects.filter(action="imapps.sync", object_id=str(run.pk)).exists()

    # rename a department, 李四 leaves, 张三 is disabled by the platform
    fake.wecom_depts[1]["name"] = "太原分行"
    fake.wecom_users[3] = []
    fake.wecom_users[2][0]["status"] = 2
    fake.wecom_users[2].append(
        {"userid": "wangwu", "name": "王五", "department": [2], "position": "", "status": 1}
    )
    run2 = services.sync_run(platform="wecom", actor=admin)
    assert run2.status == "done", run2.error
    assert run2.counts["users_deactivated"] == 2 and run2.counts["units_updated"] == 1
    branch.refresh_from_db()
    assert branch.name == "太原分行"
    assert not User.objects.get(pk=li.pk).is_active
    assert not User.objects.get(pk=zhang.pk).is_active
    assert AuditEntry.objects.filter(action="user.deactivate", object_id=str(li.pk)).exists()
    assert Identity.objects.get(external_id="wangwu").user.is_active


def test_sync_respects_a_deactivation_in_credo_but_reactivates_a_returning_member(
    wecom, fake, admin
):
    from credo.accounts import services as accounts

    services.sync_run(platform="wecom", actor=admin)
    zhang = Identity.objects.get(platform="wecom", external_id="zhangsan").user
    accounts.user_set_active(user=zhang, is_active=False, actor=admin)  # 管理员在 Credo 停用
    services.sync_run(platform="wecom", actor=admin)
    assert not User.objects.get(pk=zhang.pk).is_active  # still active at the platform: stays off
    # 张三 is disabled at the platform, then enabled again: the sync brings him back
    fake.wecom_users[2][0]["status"] = 2
    services.sync_run(platform="wecom", actor=admin)
    fake.wecom_users[2][0]["status"] = 1
    run = services.sync_run(platform="wecom", actor=admin)
    assert run.counts["users_reactivated"] == 1
    assert User.objects.get(pk=zhang.pk).is_active


def test_empty_member_list_aborts_without_deactivating(wecom, fake, admin):
    services.sync_run(platform="wecom", actor=admin)
    for k in fake.wecom_users:
        fake.wecom_users[k] = []
    run = services.sync_run(platform="wecom", actor=admin)
    assert run.status == "failed" and "中止" in run.error
    assert User.objects.filter(im_identities__platform="wecom", is_active=True).count() == 2


def test_sync_platform_error_is_logged(wecom, fake, admin):
    fake.secret = "x"
    ImApp.objects.filter(pk=wecom.pk).update(access_token="")
    run = services.sync_run(platform="wecom", actor=admin)
    assert run.status == "failed" and "40001" in run.error
    assert AuditEntry.objects.filter(action="imapps.sync_failed").exists()
    assert not Identity.objects.exists()


def test_dingtalk_sync_with_cursor_paging(dingtalk, fake, admin):
    fake.ding_users[3].append(
        {"userid": "d-wang", "name": "王钉", "dept_id_list": [3], "title": "", "active": True}
    )
    run = services.sync_run(platform="dingtalk", actor=admin)
    assert run.status == "done", run.error
    assert run.counts["members"] == 3
    assert Identity.objects.get(external_id="d-wang").user.org_unit.code == "dingtalk-3"
    assert Identity.objects.get(external_id="d-li").user.role_codes == {"risk_analyst"}


def test_cli_sync(wecom, capsys):
    call_command("imapps", "sync", "wecom")
    assert "users_created=2" in capsys.readouterr().out
    assert SyncRun.objects.get().trigger == "cli"


def test_existing_account_linked_by_employee_no_but_never_a_superuser(wecom, admin, org):
    from tests.factories import UserFactory

    mine = UserFactory(
        username="zs", display_name="张三", org_unit=org["b1"], employee_no="zhangsan"
    )
    boss = UserFactory(username="root2", is_superuser=True, employee_no="lisi")
    run = services.sync_run(platform="wecom", actor=admin)
    assert run.status == "done", run.error
    assert Identity.objects.get(external_id="zhangsan").user == mine
    assert mine.has_usable_password()  # an existing account keeps its password
    assert Identity.objects.get(external_id="lisi").user != boss
    assert run.counts["users_created"] == 1
    assert AuditEntry.objects.filter(action="imapps.identity_link", object_id=str(mine.pk)).exists()
