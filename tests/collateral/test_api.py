import pytest

from credo.core.money import Money

pytestmark = pytest.mark.django_db


def test_read_endpoints_are_scoped(client, owner, outsider, house, loan, customer):
    from credo.collateral import services

    c = house(loan=loan)
    services.guarantee_create(
        actor=owner,
        guarantor=customer,
        contract_number="BZ-API",
        kind="joint",
        amount=Money("1000.50"),
        loan=loan,
    )
    client.force_login(owner)
    data = client.get("/api/v1/collateral/items").json()
    assert data["count"] == 1 and data["items"][0]["number"] == c.number
    assert data["items"][0]["current_value"] == "500000.00"
    detail = client.get(f"/api/v1/collateral/items/{c.pk}").json()
    assert detail["valuations"][0]["appraiser"] == "山西某某房地产估价有限公司"
    assert detail["links"] == [
        {"application_id": None, "loan_id": loan.pk, "secured_amount": None, "agreed_ltv": None}
    ]
    guarantees = client.get("/api/v1/collateral/guarantees").json()
    assert guarantees["items"][0]["amount"] == "1000.50"
    client.force_login(outsider)
    assert client.get("/api/v1/collateral/items").json()["count"] == 0
    assert client.get(f"/api/v1/collateral/items/{c.pk}").status_code == 404
