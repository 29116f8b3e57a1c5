"""The UI shell: navigation, language switch, global search, error pages, CSP."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from credo.core.ui import nav as nav_module
from credo.core.ui import search as search_module
from credo.core.ui.nav import NavItem, navigation_for, register_nav
from credo.core.ui.search import SearchHit, register_search_provider
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for():
    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def extra_nav():
    before = nav_module.nav_items.items()
    nav_module.nav_items.clear()
    for key, item in before:
        if key in ("core:home", "todo:list"):
            nav_module.nav_items.register(key, item)
    register_nav(
        NavItem(
            _("审计日志"),
            "audit:log",
            "shield",
            permission="audit.view_auditentry",
            section="system",
        )
    )
    yield
    nav_module.nav_items.clear()
    for key, item in before:
        nav_module.nav_items.register(key, item)


@pytest.fixture
def providers():
    registry = search_module.search_providers_registry
    before = registry.items()
    registry.clear()
    yield search_module
    registry.clear()
    for key, provider in before:
        registry.register(key, provider)


def _nav_urls(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    return request, navigation_for(request)


def test_nav_lists_work_section_for_every_user(owner):
    _, sections = _nav_urls(owner)
    work = next(s for s in sections if s["key"] == "work")
    urls = [i["url"] for i in work["items"]]
    assert urls[:2] == [reverse("core:home"), reverse("todo:list")]
    assert work["items"][0]["active"] is True
    assert work["items"][1]["active"] is False


def test_nav_filters_by_permission(owner, extra_nav):
    _, sections = _nav_urls(owner)
    assert "system" not in [s["key"] for s in sections]
    role = RoleFactory(code="auditor", name="审计员")
    perm = Permission.objects.filter(codename="view_auditentry").first()
    if perm is None:
        pytest.skip("audit permission not defined")
    role.permissions.add(perm)
    viewer = UserFactory(username="auditor", roles=[role])
    _, sections = _nav_urls(viewer, "/audit/")
    system = next(s for s in sections if s["key"] == "system")
    assert system["items"][0]["active"] is True


def test_nav_rejects_unknown_section():
    with pytest.raises(ValueError):
        register_nav(NavItem("x", "core:home", section="nope"))


def test_base_page_renders_sidebar_and_user_menu(owner, client_for):
    response = client_for(owner).get(reverse("core:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "navbar-vertical" in html
    assert "工作台" in html and "我的待办" in html
    assert "张经理" in html and "测试客户经理" in html
    assert 'action="/i18n/setlang/"' in html
    assert f'action="{reverse("accounts:logout")}"' in html
    assert 'name="q"' in html and "搜索客户、线索、贷款…" in html
    assert "业务数据将在客户与贷款模块上线后显示" not in html  # issue 15: never a placeholder


def test_no_inline_scripts_and_csp_header(owner, client_for):
    response = client_for(owner).get(reverse("core:home"))
    csp = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the shell loads its JS"
    assert all(" src=" in tag for tag in scripts)
    assert not re.search(r"<script\b[^>]*>(?!\s*</script>)", html)  # no inline code
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_language_switch_to_english_and_back(owner, client_for):
    client = client_for(owner)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Workbench" in html and "My tasks" in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html and "工作台" in html


def test_anonymous_home_redirects_to_login(client):
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_search_validates_length(owner, client_for, providers):
    client = client_for(owner)
    html = client.get(reverse("core:search"), {"q": "a"}).content.decode()
    assert "请至少输入 2 个字符" in html
    html = client.get(reverse("core:search"), {"q": "x" * 101}).content.decode()
    assert "搜索内容不能超过 100 个字符" in html


def test_search_without_providers_shows_empty_state(owner, client_for, providers):
    html = client_for(owner).get(reverse("core:search"), {"q": "张三"}).content.decode()
    assert "暂无匹配结果" in html


def test_search_groups_results_by_provider_and_scopes_by_user(
    owner, outsider, client_for, providers
):
    calls = []

    def customers(user, q, limit):
        calls.append((user.username, q, limit))
        if user.username != "owner":
            return []
        return [SearchHit(f"{q}客户", "太原一组", "/customers/1/")]

    register_search_provider("customers", "客户", customers)
    register_search_provider("leads", "线索", lambda user, q, limit: [])
    register_search_provider(
        "secret", "机密", lambda u, q, limit: [SearchHit("机密", "", "/x/")], permission="nope.nope"
    )
    html = client_for(owner).get(reverse("core:search"), {"q": " 张三 "}).content.decode()
    assert 'data-search-group="customers"' in html
    assert "张三客户" in html and "/customers/1/" in html
    assert 'data-search-group="leads"' not in html  # empty groups are hidden
    assert "机密" not in html  # provider permission
    assert calls[-1] == ("owner", "张三", 10)

    html = client_for(outsider).get(reverse("core:search"), {"q": "张三"}).content.decode()
    assert "张三客户" not in html and "暂无匹配结果" in html


def test_error_pages_render(owner, client_for):
    from credo.core import views

    request = RequestFactory().get("/missing")
    request.user = owner
    for view, status, text in (
        (views.error_403, 403, "无权访问"),
        (views.error_404, 404, "页面不存在"),
    ):
        response = view(request)
        assert response.status_code == status
        assert text in response.content.decode()
    response = views.error_500(request)
    assert response.status_code == 500
    assert "系统出现错误" in response.content.decode()


def test_unknown_url_uses_404_page(client_for, owner, settings):
    settings.DEBUG = False
    response = client_for(owner).get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_healthz(client):
    assert client.get(reverse("core:healthz")).json() == {"status": "ok"}


def test_failing_provider_does_not_break_search(owner, client_for, providers):
    def broken(user, q, limit):
        raise RuntimeError("boom")

    register_search_provider("broken", "坏的", broken)
    register_search_provider("ok", "好的", lambda user, q, limit: [SearchHit("命中", "", "/ok/")])
    response = client_for(owner).get(reverse("core:search"), {"q": "命中"})
    assert response.status_code == 200
    assert 'data-search-group="ok"' in response.content.decode()


def test_chinese_is_default_even_for_english_browsers(client, owner, request):
    from django.utils import translation

    # the English page below leaves "en" active in this thread: restore it for the tests after
    request.addfinalizer(translation.deactivate)
    client.force_login(owner)
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in body
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/").content.decode()
