from credo.collateral.models import Collateral, Guarantee, ReleaseRequest
from credo.collateral.states import COLLATERAL, GUARANTEE, RELEASE
from tests.fsm_tables import assert_table

C, G, R = Collateral.Status, Guarantee.Status, ReleaseRequest.Status


def test_collateral_table():
    assert_table(COLLATERAL, C.values, [(C.DRAFT, C.REGISTERED), (C.REGISTERED, C.RELEASED)])


def test_guarantee_table():
    assert_table(
        GUARANTEE,
        G.values,
        [(G.DRAFT, G.ACTIVE), (G.DRAFT, G.RELEASED), (G.ACTIVE, G.RELEASED)],
    )


def test_release_table():
    assert_table(RELEASE, R.values, [(R.PENDING, R.APPROVED), (R.PENDING, R.REJECTED)])
