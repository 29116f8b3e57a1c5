"""Tests of the pure scorecard engine (no database)."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.scorecard import engine as E

# --------------------------------------------------------------------------------------------
# WOE / IV known answers


def test_woe_iv_known_answer():
    # goods [40, 30, 30] → G = 100; bads [5, 10, 15] → B = 30
    # bin 1: g/G = 0.40, b/B = 5/30 = 1/6  → WOE = ln(0.40 · 6) = ln 2.4,  IV = (0.40 − 1/6) · ln 2.4
    # bin 2: g/G = 0.30, b/B = 10/30 = 1/3 → WOE = ln(0.30 · 3) = ln 0.9,  IV = (0.30 − 1/3) · ln 0.9
    # bin 3: g/G = 0.30, b/B = 15/30 = 1/2 → WOE = ln(0.30 · 2) = ln 0.6,  IV = (0.30 − 1/2) · ln 0.6
    woes, ivs, total = E.woe_iv([40, 30, 30], [5, 10, 15])
    expected_w = [math.log(2.4), math.log(0.9), math.log(0.6)]
    expected_iv = [
        (0.4 - 1 / 6) * math.log(2.4),
        (0.3 - 1 / 3) * math.log(0.9),
        (0.3 - 0.5) * math.log(0.6),
    ]
    assert woes == pytest.approx(expected_w, abs=1e-12)
    assert ivs == pytest.approx(expected_iv, abs=1e-12)
    assert total == pytest.approx(sum(expected_iv), abs=1e-12)
    # ≈ 0.23333 · 0.87547 + 0.03333 · 0.10536 + 0.2 · 0.51083 = 0.20428 + 0.00351 + 0.10217
    assert total == pytest.approx(0.30996, abs=1e-4)
    assert all(v >= 0 for v in ivs)


def test_woe_iv_smoothing_only_on_the_zero_bin_and_empty_bins():
    # goods [50, 50] → G = 100; bads [0, 20] → B = 20 (totals are not smoothed)
    # bin 1 has no bads → +0.5 to g and b of that bin: g = 50.5, b = 0.5
    #   WOE = ln((50.5/100) / (0.5/20)) = ln(0.505 / 0.025) = ln 20.2
    #   IV  = (0.505 − 0.025) · ln 20.2
    # bin 2 is untouched: WOE = ln((50/100) / (20/20)) = ln 0.5, IV = (0.5 − 1) · ln 0.5
    woes, ivs, total = E.woe_iv([50, 50], [0, 20])
    assert woes[0] == pytest.approx(math.log(20.2))
    assert ivs[0] == pytest.approx(0.48 * math.log(20.2))
    assert woes[1] == pytest.approx(math.log(0.5))
    assert ivs[1] == pytest.approx(-0.5 * math.log(0.5))
    assert total == pytest.approx(ivs[0] + ivs[1])
    # an empty bin is neutral: WOE 0, IV 0; the others as without it
    woes, ivs, _ = E.woe_iv([10, 0, 10], [5, 0, 5])
    assert woes == [0.0, 0.0, 0.0] and ivs == [0.0, 0.0, 0.0]
    # no goods in a bin: g = 0.5, b = 10.5 → WOE = ln((0.5/10) / (10.5/15))
    woes, _, _ = E.woe_iv([0, 10], [10, 5])
    assert woes[0] == pytest.approx(math.log((0.5 / 10) / (10.5 / 15)))


# --------------------------------------------------------------------------------------------
# Values


def test_detect_kind_and_float_parsing():
    assert E.detect_kind([1, 2, None, "", 3.5]) == "numeric"
    assert E.detect_kind(["1", "2.5", "1,200", None]) == "numeric"
    assert E.detect_kind(["农业", "制造", "1"]) == "categorical"
    assert E.detect_kind([1, 1, 1, None]) == "categorical"  # one distinct value
    # ≥ 95 % numeric: 1 garbage in 40 is still numeric
    assert E.detect_kind([str(i) for i in range(39)] + ["N/A"]) == "numeric"
    assert E.detect_kind([str(i) for i in range(9)] + ["N/A"]) == "categorical"
    arr = E.to_float_array([1, "2", None, "", "x", float("inf"), "1,500"])
    assert arr[0] == 1 and arr[1] == 2 and arr[6] == 1500
    assert np.isnan(arr[2:6]).all()


# --------------------------------------------------------------------------------------------
# Binning properties

_value = st.one_of(
    st.integers(-20, 20).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.just(math.nan),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(_value, st.integers(0, 1)), min_size=1, max_size=400),
    max_bins=st.integers(1, 8),
    share=st.sampled_from([0.0, 0.02, 0.05, 0.2]),
)
def test_bin_numeric_properties(rows, max_bins, share):
    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=int)
    fb = E.bin_numeric("x", x, y, max_bins=max_bins, min_bin_share=share)
    assert fb.kind == "numeric"
    # exactly one missing bin, last
    assert [b.missing for b in fb.bins].count(True) == 1 and fb.bins[-1].missing
    regular = fb.bins[:-1]
    assert len(regular) <= max_bins
    # counts cover every row; missing bin holds the NaNs
    assert sum(b.count for b in fb.bins) == len(rows)
    assert fb.bins[-1].count == int(np.isnan(x).sum())
    assert all(b.goods + b.bads == b.count for b in fb.bins)
    # edges: first open below, last open above, contiguous and increasing
    if regular:
        assert regular[0].lo is None and regular[-1].hi is None
        for a, b in zip(regular, regular[1:], strict=False):
            assert a.hi is not None and a.hi == b.lo
        los = [b.lo for b in regular[1:]]
        assert all(p < q for p, q in zip(los, los[1:], strict=False))
    # bad rates of the non-missing bins are monotonic
    rates = [b.bad_rate for b in regular if b.count]
    asc = all(p <= q for p, q in zip(rates, rates[1:], strict=False))
    desc = all(p >= q for p, q in zip(rates, rates[1:], strict=False))
    assert asc or desc
    # every value maps to the bin whose [lo, hi) contains it, and the counts agree
    idx = [fb.index(v) for v in x.tolist()]
    for v, i in zip(x.tolist(), idx, strict=True):
        b = fb.bins[i]
        if math.isnan(v):
            assert b.missing
        else:
            assert not b.missing
            assert (b.lo is None or b.lo <= v) and (b.hi is None or v < b.hi)
    assert np.bincount(idx, minlength=len(fb.bins)).tolist() == [b.count for b in fb.bins]
    assert fb.indices(x.tolist()).tolist() == idx
    # round trip through JSON
    back = E.FeatureBinning.from_dict(json.loads(json.dumps(fb.to_dict(), allow_nan=False)))
    assert back.to_dict() == fb.to_dict()


def test_bin_numeric_finds_the_trend_and_labels():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 100, 5000)
    y = (rng.random(5000) < 0.05 + 0.003 * x).astype(int)
    fb = E.bin_numeric("x", x, y, max_bins=5)
    assert fb.trend == "asc"
    assert fb.iv > 0.1
    assert fb.bins[0].label.startswith("< ") and fb.bins[-2].label.startswith("≥ ")
    assert fb.bins[1].label.startswith("[")
    assert fb.bins[-1].label == "缺失" and fb.bins[-1].count == 0 and fb.bins[-1].woe == 0
    # woe_of is positive (safer) for small x
    w = fb.woe_of([1.0, 99.0, None])
    assert w[0] > 0 > w[1] and w[2] == 0


def test_bin_categorical_rare_other_and_unseen():
    x = ["a"] * 400 + ["b"] * 300 + ["c"] * 280 + ["r1"] * 10 + ["r2"] * 10 + [None] * 50
    y = [1] * 40 + [0] * 360 + [1] * 60 + [0] * 240 + [1] * 100 + [0] * 180 + [1] * 20 + [0] * 50
    fb = E.bin_categorical("ind", x, y, max_bins=6, min_bin_share=0.05)
    labels = [b.label for b in fb.bins]
    assert labels == ["a", "b", "c", "其他", "缺失"]  # sorted by bad rate, then 其他, 缺失
    other = fb.bins[3]
    assert other.other and other.categories == ["r1", "r2"] and other.count == 20
    assert fb.index("zzz") == 3  # unseen → 其他
    assert fb.index(" a ") == 0
    assert fb.index(None) == fb.index("") == 4
    assert sum(b.count for b in fb.bins) == len(x)
    # max_bins merges the closest bad rates (a 10 %, b 20 %, c 35.7 %): a and b join
    fb2 = E.bin_categorical("ind", x, y, max_bins=3, min_bin_share=0.05)
    assert [b.label for b in fb2.bins] == ["a、b", "c", "其他", "缺失"]
    # without rare categories, unseen values go to the missing bin
    fb3 = E.bin_categorical("h", ["有", "无"] * 50, [0, 1] * 50)
    assert not any(b.other for b in fb3.bins)
    assert fb3.bins[fb3.index("火星")].missing


# --------------------------------------------------------------------------------------------
# Training end to end


def _make(n: int, seed: int = 1) -> tuple[dict[str, list[Any]], list[int], float]:
    """Logistic truth over 8 informative-or-not features; returns (columns, y, true AUC)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.6, n)
    age = rng.integers(20, 65, n).astype(float)
    debt = rng.uniform(0, 1.5, n)
    overdue = rng.poisson(0.5, n).astype(float)
    inds = ["农业", "制造", "零售", "餐饮", "运输", "服务"]
    ind_eff = np.array([-0.3, 0.0, 0.2, 0.6, 0.3, 0.1])
    industry = rng.choice(len(inds), n, p=[0.25, 0.2, 0.2, 0.15, 0.1, 0.1])
    house = rng.integers(0, 2, n)
    tenure = rng.exponential(5, n)
    tenure_missing = rng.random(n) < 0.1
    noise = rng.normal(0, 1, n)
    logit = (
        -2.2
        - 0.8 * (np.log(income) - 10) / 0.6
        + 1.2 * (debt - 0.75)
        + 0.5 * overdue
        - 0.015 * (age - 40)
        + ind_eff[industry]
        + np.where(house == 1, -0.4, 0.2)
        - 0.08 * (tenure - 5)
    )
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    cols: dict[str, list[Any]] = {
        "income": income.round(0).tolist(),
        "age": age.tolist(),
        "debt_ratio": debt.round(3).tolist(),
        "overdue": [str(int(v)) for v in overdue],  # numbers as text, as from a CSV
        "industry": [inds[i] for i in industry],
        "house": ["有" if h else "无" for h in house],
        "tenure": [
            None if m else round(float(v), 2) for v, m in zip(tenure, tenure_missing, strict=True)
        ],
        "noise": noise.tolist(),
        "empty": [None] * n,
    }
    return cols, y.tolist(), float(roc_auc_score(y, p))


@pytest.fixture(scope="module")
def trained():
    cols, y, true_auc = _make(20_000)
    cfg = E.TrainConfig(labels={"income": "年收入", "empty": "空列"})
    result = E.train(cols, y, cfg)
    return cols, y, true_auc, result


def test_train_end_to_end(trained):
    cols, y, true_auc, r = trained
    assert 0.74 < true_auc < 0.80  # the data is what we think it is (measured 0.773)
    hold = r.metrics["holdout"]
    assert hold["auc"] > 0.73  # measured 0.76
    assert hold["n"] == 6000 and r.metrics["train"]["n"] == 14000
    assert hold["gini"] == pytest.approx(2 * hold["auc"] - 1, abs=1e-5)
    assert 0.2 < hold["ks"] < 0.6
    assert r.rows == 20_000 and r.bads == sum(y)
    reasons = {d["name"]: d["reason"] for d in r.dropped}
    assert reasons["empty"] == "全部缺失"
    assert any("空列" in n and "全部缺失" in n for n in r.notes)
    assert reasons["noise"].startswith("IV ") and "低于阈值 0.02" in reasons["noise"]
    selected = {f.name for f in r.features}
    assert {"income", "debt_ratio", "overdue", "industry", "house", "tenure"} <= selected
    assert "noise" not in selected and "empty" not in selected
    assert all(c <= 0 for c in r.coefficients.values())
    assert set(r.coefficients) == selected
    assert {f.name for f in r.candidates} >= selected | {"noise"}
    # text numbers were detected as numeric; tenure's missing bin is populated
    by = {f.name: f for f in r.features}
    assert by["overdue"].kind == "numeric" and by["industry"].kind == "categorical"
    assert by["tenure"].bins[-1].count > 1000
    assert by["income"].trend == "desc" and by["debt_ratio"].trend == "asc"
    assert by["income"].label == "年收入"
    # grades: 4 descending cuts; holdout bad rate falls from E to A
    assert len(r.grade_cuts) == 4 and r.grade_cuts == sorted(r.grade_cuts, reverse=True)
    bands = r.metrics["bands"]
    assert [b["grade"] for b in bands] == list("ABCDE")
    assert sum(b["n"] for b in bands) == hold["n"]
    rates = [b["bad_rate"] for b in bands]
    assert rates == sorted(rates)
    dist = r.metrics["distribution"]
    assert len(dist["edges"]) == len(dist["train"]) + 1 <= 22
    assert sum(dist["train"]) == 14000 and sum(dist["holdout"]) == 6000
    base = r.metrics["psi_baseline"]
    assert len(base["edges"]) == 9 and len(base["shares"]) == 10
    assert sum(base["shares"]) == pytest.approx(1)
    assert 0 <= r.metrics["psi_holdout"] < 0.05
    json.dumps(r.to_dict(), allow_nan=False)


def test_points_scaling(trained):
    cols, _, _, r = trained
    cfg = E.TrainConfig()
    assert r.factor * math.log(2) == pytest.approx(cfg.pdo)  # doubling the odds adds PDO points
    assert r.offset == pytest.approx(cfg.base_score - r.factor * math.log(cfg.base_odds))
    model = E.ScoreModel(r.to_dict())
    nf = len(r.features)
    for i in range(0, 20_000, 997):
        rec = {k: v[i] for k, v in cols.items()}
        s = model.score(rec)
        # ln(good odds) from the regression on this record's WOEs
        log_odds_bad = r.intercept + sum(
            r.coefficients[f.name] * f.bins[f.index(rec[f.name])].woe for f in r.features
        )
        exact = r.offset + r.factor * (-log_odds_bad)
        assert abs(s.score - exact) <= nf * 0.5
        assert s.score == sum(s.points.values())
        assert s.grade == E.grade_of(s.score, r.grade_cuts)
    # the scores of the model reproduce the reported AUC on all rows (between train and holdout)
    scores = [model.score({k: v[i] for k, v in cols.items()}).score for i in range(20_000)]
    from sklearn.metrics import roc_auc_score

    all_auc = roc_auc_score(trained[1], -np.asarray(scores))
    lo = min(r.metrics["train"]["auc"], r.metrics["holdout"]["auc"])
    hi = max(r.metrics["train"]["auc"], r.metrics["holdout"]["auc"])
    assert lo - 1e-9 <= all_auc <= hi + 1e-9


def test_scoring_never_raises_and_explains(trained):
    _, _, _, r = trained
    model = E.ScoreModel(json.loads(json.dumps(r.to_dict())))
    empty = model.score({})
    garbage = model.score(
        {
            "income": "很多",
            "age": object(),
            "debt_ratio": float("nan"),
            "overdue": [1],
            "industry": 42,
            "house": None,
            "tenure": float("inf"),
        }
    )
    assert isinstance(empty.score, int) and empty.grade in "ABCDE"
    assert garbage.score == empty.score  # everything fell into the missing bins
    by = {f.name: f for f in model.features}
    assert garbage.points["income"] == by["income"].bins[-1].points
    # unseen category → missing bin (industry has no rare "其他" bin here)
    s = model.score({"industry": "火星"})
    assert s.points["industry"] == by["industry"].bins[-1].points
    # reasons: the worst bins of a risky record, by points lost
    risky = model.score({"income": 1000, "debt_ratio": 1.49, "overdue": 5, "house": "无"})
    assert 1 <= len(risky.reasons) <= 3
    lost = [x["lost"] for x in risky.reasons]
    assert lost == sorted(lost, reverse=True) and all(v > 0 for v in lost)
    top = risky.reasons[0]
    assert set(top) == {"feature", "label", "bin", "points", "lost"}
    f = by[top["feature"]]
    assert top["lost"] == max(b.points for b in f.bins) - top["points"]
    inc = next(x for x in risky.reasons if x["feature"] == "income")
    assert inc["label"] == "年收入" and inc["bin"].startswith("< ")
    assert len(model.score_many([{}, {"income": 5}])) == 2


def test_determinism():
    cols, y, _ = _make(3000, seed=5)
    a = E.train(cols, y, E.TrainConfig(seed=7)).to_dict()
    b = E.train(cols, y, E.TrainConfig(seed=7)).to_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert E.TrainConfig.from_dict(a["config"]) == E.TrainConfig(seed=7)


def test_grade_cuts_from_config_and_correlated_feature_dropped():
    cols, y, _ = _make(5000, seed=9)
    cols["income_copy"] = [None if v is None else v * 2 + 1 for v in cols["income"]]
    r = E.train(
        cols, y, E.TrainConfig(grade_cuts=[600, 580, 560, 540], labels={"income": "年收入"})
    )
    assert r.grade_cuts == [600, 580, 560, 540]
    reasons = {d["name"]: d["reason"] for d in r.dropped}
    dropped_one = "income_copy" if "income_copy" in reasons else "income"
    assert "相关系数" in reasons[dropped_one] and "保留 IV 更高的" in reasons[dropped_one]


# --------------------------------------------------------------------------------------------
# Bad input


def test_training_errors():
    with pytest.raises(E.TrainingError, match="目标列只有一个取值"):
        E.train({"x": list(range(100))}, [0] * 100)
    with pytest.raises(E.TrainingError, match="至少需要 50 行"):
        E.train({"x": list(range(20))}, [0, 1] * 10)
    with pytest.raises(E.TrainingError, match="至少需要 10 个"):
        E.train({"x": list(range(100))}, [1] * 5 + [0] * 95)
    with pytest.raises(E.TrainingError, match="没有可用的特征"):
        E.train({"x": [None] * 100, "c": ["a"] * 100}, [0, 1] * 50)
    rng = np.random.default_rng(0)
    with pytest.raises(E.TrainingError, match="没有可用的特征"):
        E.train({"noise": rng.normal(size=400).tolist()}, rng.integers(0, 2, 400).tolist())


def test_scalar_helpers():
    assert E.grade_of(700, [650, 600, 550, 500]) == "A"
    assert E.grade_of(650, [650, 600, 550, 500]) == "A"
    assert E.grade_of(649, [650, 600, 550, 500]) == "B"
    assert E.grade_of(499, [650, 600, 550, 500]) == "E"
    assert E.shares([1, 2, 3, 4], [2.5]) == [0.5, 0.5]
    assert E.shares([1, 2, 3, 4], [2, 3]) == [0.25, 0.25, 0.5]
    assert E.psi([0.5, 0.5], [0.5, 0.5]) == 0
    # PSI = (0.6-0.5)·ln(0.6/0.5) + (0.4-0.5)·ln(0.4/0.5)
    assert E.psi([0.5, 0.5], [0.6, 0.4]) == pytest.approx(0.1 * math.log(1.2) - 0.1 * math.log(0.8))
    assert E.psi([0.5, 0.5], [1.0, 0.0]) == pytest.approx(
        0.5 * math.log(2) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    )
    y = [1, 1, 0, 0]
    assert E.auc(y, [1, 2, 3, 4]) == 1.0  # bads have the lowest scores
    assert E.ks(y, [1, 2, 3, 4]) == 1.0
    assert E.auc(y, [4, 3, 2, 1]) == 0.0


# --------------------------------------------------------------------------------------------
# CSV


def test_read_csv_bom_and_chinese_target(tmp_path):
    text = "\ufeff年收入,行业,是否逾期\n50000,农业,否\n,制造,是\n30000,,否\n 40000 ,零售,\n"
    cols, y, notes = E.read_csv(io.StringIO(text), "是否逾期", "是")
    assert list(cols) == ["年收入", "行业"]
    assert cols["年收入"] == ["50000", None, "30000"]
    assert cols["行业"] == ["农业", "制造", None]
    assert y == [0, 1, 0]
    assert any("1 行目标列为空" in n for n in notes)
    # the same file from a path, UTF-8 with BOM and GBK
    p = tmp_path / "a.csv"
    p.write_bytes(text.encode("utf-8"))
    assert E.read_csv(str(p), "是否逾期", "是")[:2] == (cols, y)
    g = tmp_path / "g.csv"
    g.write_bytes(text.lstrip("\ufeff").encode("gbk"))
    assert E.read_csv(g, "是否逾期", "是")[:2] == (cols, y)
    # binary stream
    assert E.read_csv(io.BytesIO(text.encode("utf-8")), "是否逾期", "是")[:2] == (cols, y)


def test_read_csv_numeric_target_and_errors():
    text = "a,bad\n1,1.0\n2,0\n3,1\n4,0\n"
    cols, y, _ = E.read_csv(io.StringIO(text), "bad", "1")
    assert y == [1, 0, 1, 0] and cols == {"a": ["1", "2", "3", "4"]}
    _, y2, notes = E.read_csv(io.StringIO(text), "bad", "1", max_rows=2)
    assert y2 == [1, 0] and any("前 2 行" in n for n in notes)
    with pytest.raises(E.TrainingError, match="CSV 中没有目标列 “逾期”"):
        E.read_csv(io.StringIO(text), "逾期", "1")
    with pytest.raises(E.TrainingError, match="没有取值为 “是”"):
        E.read_csv(io.StringIO(text), "bad", "是")
    with pytest.raises(E.TrainingError, match="目标列只有一个取值"):
        E.read_csv(io.StringIO("a,bad\n1,1\n2,1\n"), "bad", "1")


def test_config_validation_and_round_trip():
    cols = {"x": list(range(100))}
    y = [0, 1] * 50
    for bad in (
        E.TrainConfig(pdo=0),
        E.TrainConfig(holdout=1.0),
        E.TrainConfig(max_bins=1),
        E.TrainConfig(grade_cuts=[500, 600, 550, 540]),
        E.TrainConfig(grade_cuts=[600, 550]),
    ):
        with pytest.raises(E.TrainingError):
            E.train(cols, y, bad)
    cfg = E.TrainConfig(pdo=40, grade_cuts=[650, 600, 550, 500], kinds={"x": "categorical"})
    assert E.TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert E.TrainConfig.from_dict({"unknown": 1, "seed": 3}).seed == 3


def test_high_cardinality_category_is_capped_and_dropped():
    rng = np.random.default_rng(2)
    n = 2000
    cols = {
        "id": [f"ID{i}" for i in range(n)],
        "signal": rng.uniform(0, 1, n).tolist(),
    }
    y = (rng.random(n) < 0.05 + 0.3 * np.asarray(cols["signal"])).astype(int).tolist()
    r = E.train(cols, y, E.TrainConfig(holdout=0))
    cand = {f.name: f for f in r.candidates}
    other = next(b for b in cand["id"].bins if b.other)
    assert len(other.categories or []) == E.MAX_OTHER_LISTED
    assert other.count == n
    assert [f.name for f in r.features] == ["signal"]
    assert any("未留出验证集" in n for n in r.notes)
    assert r.metrics["holdout"] == r.metrics["train"]
    # forcing the kind: numbers treated as categories
    r2 = E.train(cols, y, E.TrainConfig(kinds={"signal": "categorical"}, min_iv=0))
    assert {f.name: f.kind for f in r2.candidates}["signal"] == "categorical"
