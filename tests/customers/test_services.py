import datetime as dt

import pytest
from django.http import Http404

from credo.core.audit.models import AuditEntry
from credo.customers import selectors, services
from credo.customers.errors import DuplicateCustomer, InvalidCustomer, StaleCustomer
from credo.customers.models import Customer, CustomerEvent, Relation
from tests.customers.conftest import make_id, make_uscc

pytestmark = pytest.mark.django_db


def test_create_enterprise_sets_scope_audit_and_timeline(owner, enterprise_data):
    c = services.customer_create(actor=owner, data=enterprise_data)
    assert c.owner == owner and c.team == owner.team and c.branch == owner.branch
    assert c.registered_capital.fen == 500_000_000
    assert c.events.get().kind == "created"
    entry = AuditEntry.objects.get(action="customer.create")
    assert entry.object_id == str(c.pk)
    assert "0351-7654321" not in str(entry.changes)  # sensitive value not in the audit diff


def test_invalid_checksum_is_a_field_error_and_nothing_is_written(owner, enterprise_data):
    enterprise_data["uscc"] = enterprise_data["uscc"][:-1] + (
        "0" if enterprise_data["uscc"][-1] != "0" else "1"
    )
    enterprise_data["region_code"] = "149999"
    with pytest.raises(InvalidCustomer) as exc:
        services.customer_create(actor=owner, data=enterprise_data)
    assert "校验位" in exc.value.field_errors["uscc"]
    assert "行政区划" in exc.value.field_errors["region_code"]
    assert Customer.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_duplicate_uscc_refused_with_link(owner, outsider, enterprise_data):
    first = services.customer_create(actor=owner, data=enterprise_data)
    enterprise_data["uscc"] = enterprise_data["uscc"].lower()
    with pytest.raises(DuplicateCustomer) as exc:
        services.customer_create(actor=outsider, data=enterprise_data)
    assert exc.value.existing == first and str(first.pk) in exc.value.message
    assert Customer.objects.count() == 1


def test_duplicate_id_number_found_through_blind_index(owner, individual_data):
    services.customer_create(actor=owner, data=individual_data)
    again = {
        **individual_data,
        "id_number": individual_data["id_number"].lower(),
        "name": "李 小明",
    }
    with pytest.raises(DuplicateCustomer):
        services.customer_create(actor=owner, data=again)


def test_individual_sensitive_fields_encrypted_and_searchable(owner, manager_role, individual_data):
    from credo.accounts.fieldperms import clear_cache
    from credo.accounts.models import FieldPermission

    c = services.customer_create(actor=owner, data=individual_data)
    # Exact search by ID number / phone needs the clear-read field permission (issue 16 #3).
    for field in ("id_number", "phone"):
        FieldPermission.objects.create(
            role=manager_role, field_key=f"customers.customer.{field}", can_view=True
        )
    clear_cache(owner)
    assert Customer.objects.get(pk=c.pk).bank_account == "6222020512345678901"
    for q in (individual_data["id_number"], "138 3511 2345", "小明"):
        assert list(selectors.customer_list(owner, {"q": q})) == [c], q


def test_scope_outsider_gets_404_and_attempt_is_audited(
    owner, colleague, outsider, enterprise_data
):
    c = services.customer_create(actor=owner, data=enterprise_data)
    assert selectors.customer_get(owner, c.pk) == c
    with pytest.raises(Http404):
        selectors.customer_get(outsider, c.pk)
    assert AuditEntry.objects.filter(action="customer.access_denied", actor_id=outsider.pk).exists()
    assert list(selectors.customer_list(outsider)) == []
    # Own-scope colleague in the same team does not see it either; a team lead would.
    assert list(selectors.customer_list(colleague)) == []


def test_update_diff_version_and_stale_edit(owner, enterprise_data):
    c = services.customer_create(actor=owner, data=enterprise_data)
    updated = services.customer_update(
        customer=c,
        actor=owner,
        data={"address": "新地址", "phone": "13900001111"},
        expected_version=1,
    )
    assert updated.version == 2
    entry = AuditEntry.objects.get(action="customer.update")
    assert entry.changes["address"][1] == "新地址"
    assert entry.metadata["sensitive_changed"] == ["phone"]
    assert "13900001111" not in str(entry.changes)
    with pytest.raises(StaleCustomer):
        services.customer_update(customer=c, actor=owner, data={"address": "x"}, expected_version=1)
    assert Customer.objects.get(pk=c.pk).address == "新地址"


def test_relations_shareholding_limits_and_flags_propagate(owner, enterprise_data, individual_data):
    company = services.customer_create(actor=owner, data=enterprise_data)
    person = services.customer_create(actor=owner, data=individual_data)
    other = services.customer_create(
        actor=owner, data={**individual_data, "name": "赵六", "id_number": make_id(8)}
    )
    services.relation_add(
        from_customer=person, to_customer=company, kind="shareholder", share_pct="60", actor=owner
    )
    with pytest.raises(InvalidCustomer, match="100"):
        services.relation_add(
            from_customer=other,
            to_customer=company,
            kind="shareholder",
            share_pct="41",
            actor=owner,
        )
    with pytest.raises(InvalidCustomer):
        services.relation_add(from_customer=company, to_customer=person, kind="spouse", actor=owner)
    services.relation_add(from_customer=other, to_customer=company, kind="guarantor", actor=owner)
    services.risk_flag_set(customer=other, flag="judgment_debtor", on=True, actor=owner)
    flags = selectors.related_risk_flags(company)
    assert [(f["name"], f["flag"]) for f in flags] == [("赵六", "judgment_debtor")]
    graph = selectors.relation_graph(company, owner)
    assert len(graph["nodes"]) == 3 and any("60" in link["label"] for link in graph["links"])
    assert Relation.objects.count() == 2
    assert company.events.filter(kind="relation").count() == 2


def test_bureau_pull_needs_authorization(owner, individual_data):
    from credo.customers.errors import AuthorizationMissing
    from credo.customers.external import external_pull

    c = services.customer_create(actor=owner, data=individual_data)
    with pytest.raises(AuthorizationMissing):
        external_pull(customer=c, kind="bureau", actor=owner)
    assert c.pulls.count() == 0
    assert AuditEntry.objects.filter(action="customer.external_pull_refused").exists()
    today = dt.date.today()
    services.authorization_record(
        customer=c,
        actor=owner,
        scope="bureau",
        granted_by="李小明",
        valid_from=today,
        valid_until=today + dt.timedelta(days=90),
    )
    pull = external_pull(customer=c, kind="bureau", actor=owner)
    again = external_pull(customer=c, kind="bureau", actor=owner)
    assert pull.status == "ok" and pull.authorization is not None
    assert pull.parsed == again.parsed  # simulated provider is deterministic
    assert CustomerEvent.objects.filter(customer=c, kind="external_data").count() == 2


def test_expired_authorization_cannot_be_recorded(owner, individual_data):
    c = services.customer_create(actor=owner, data=individual_data)
    past = dt.date.today() - dt.timedelta(days=10)
    with pytest.raises(InvalidCustomer, match="过期"):
        services.authorization_record(
            customer=c,
            actor=owner,
            scope="bureau",
            granted_by="x",
            valid_from=past - dt.timedelta(days=30),
            valid_until=past,
        )


def test_http_provider_failure_is_stored_not_raised(owner, enterprise_data):
    from credo.customers.external import external_pull
    from credo.customers.models import ExternalProvider

    ExternalProvider.objects.create(
        name="测试工商",
        kind="registry",
        engine="http_json",
        url="http://127.0.0.1:9/none",
        timeout_seconds=1,
    )
    c = services.customer_create(actor=owner, data=enterprise_data)
    pull = external_pull(customer=c, kind="registry", actor=owner)
    assert pull.status in ("failed", "timeout") and pull.error
    assert make_uscc(1) == c.uscc
