"""Exact TreeSHAP with precomputed path weights (churnkit.explain._treeshap)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

xgb = pytest.importorskip("xgboost")

from churnkit.explain._treeshap import Unsupported, compile_booster  # noqa: E402


def _train(X, y, *, depth, rounds, base_score=0.5, seed=0, **extra):
    params = {
        "objective": "binary:logistic",
        "max_depth": depth,
        "eta": 0.3,
        "base_score": base_score,
        "seed": seed,
        "nthread": 1,
        "min_child_weight": 0.0,
        "lambda": 1.0,
        **extra,
    }
    return xgb.train(params, xgb.DMatrix(X, label=y), rounds)


def _data(seed, n=150, p=5, nan=0.1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1] = rng.integers(0, 4, n)  # ties: many rows on the same value
    X[rng.random((n, p)) < nan] = np.nan
    logit = np.nan_to_num(X[:, 0]) - 0.5 * np.nan_to_num(X[:, 1]) + rng.normal(0, 1, n)
    return X, (logit > 0).astype(int)


def _trees(booster):
    return json.loads(bytes(booster.save_raw("json")))["learner"]["gradient_booster"][
        "model"
    ]["trees"]


def _at_thresholds(booster, X, seed):
    """Rows of X with values set exactly to split thresholds (float32) of the model."""
    rng = np.random.default_rng(seed)
    rows = X.copy()
    for tree in _trees(booster):
        for node, left in enumerate(tree["left_children"]):
            if left >= 0:
                r = rng.integers(len(rows))
                f = tree["split_indices"][node]
                rows[r, f] = np.float32(tree["split_conditions"][node])
    return rows


def _reference(booster, X, iteration_range=(0, 0)):
    return booster.predict(
        xgb.DMatrix(X), pred_contribs=True, iteration_range=iteration_range
    )


def _brute_force_shap(booster, X):
    """Path-dependent SHAP by enumerating feature subsets (float64, tiny models).

    ``E[f | S]`` follows ``x`` at splits on features in ``S`` and averages the
    children by cover elsewhere (Lundberg et al.'s path-dependent expectation).
    """
    model = json.loads(bytes(booster.save_raw("json")))["learner"]
    base = float(str(model["learner_model_param"]["base_score"]).strip("[]"))
    trees = model["gradient_booster"]["model"]["trees"]
    p = X.shape[1]

    def expect(tree, node, x, S):
        left = tree["left_children"][node]
        if left < 0:
            return tree["split_conditions"][node]
        right = tree["right_children"][node]
        f = tree["split_indices"][node]
        if f in S:
            v = np.float32(x[f])
            go_left = (
                bool(tree["default_left"][node])
                if np.isnan(v)
                else (v < np.float32(tree["split_conditions"][node]))
            )
            return expect(tree, left if go_left else right, x, S)
        h = tree["sum_hessian"]
        return (
            h[left] * expect(tree, left, x, S) + h[right] * expect(tree, right, x, S)
        ) / h[node]

    out = np.zeros((len(X), p + 1))
    for r, x in enumerate(X):
        for tree in trees:
            value = {
                S: expect(tree, 0, x, set(S))
                for size in range(p + 1)
                for S in itertools.combinations(range(p), size)
            }
            out[r, p] += value[()]
            for i in range(p):
                for S, v in value.items():
                    if i in S:
                        continue
                    w = math.factorial(len(S)) * math.factorial(p - len(S) - 1)
                    with_i = tuple(sorted((*S, i)))
                    out[r, i] += w / math.factorial(p) * (value[with_i] - v)
        out[r, p] += math.log(base / (1 - base))
    return out


def _margin64(booster, X, iteration_range=(0, 0)):
    """The margin in float64: base margin plus the leaf values each row reaches."""
    fast = compile_booster(booster, iteration_range)
    leaves = (
        booster.predict(xgb.DMatrix(X), pred_leaf=True, iteration_range=iteration_range)
        .reshape(len(X), -1)
        .astype(np.int64)
    )
    begin = iteration_range[0]
    trees = _trees(booster)[begin : begin + leaves.shape[1]]
    values = [
        np.asarray(t["split_conditions"])[leaves[:, i]] for i, t in enumerate(trees)
    ]
    return fast.base_margin + np.sum(values, axis=0)


def test_stump_by_hand():
    # one split on x0 at 0.5: left leaf a (cover ca), right leaf b (cover cb)
    X = np.array([[0.0, 1.0], [0.0, 2.0], [1.0, 3.0], [1.0, 4.0], [1.0, 5.0]])
    y = np.array([0, 0, 1, 1, 1])
    booster = _train(X, y, depth=1, rounds=1, base_score=0.25)
    tree = _trees(booster)[0]
    a, b = tree["split_conditions"][1:3]
    ca, cb = tree["sum_hessian"][1:3]
    mean = (a * ca + b * cb) / (ca + cb)
    out = compile_booster(booster).shap_values(np.array([[0.0, 9.0], [1.0, np.nan]]))
    assert tree["split_indices"][0] == 0
    np.testing.assert_allclose(out[:, 0], [a - mean, b - mean], rtol=1e-12)
    np.testing.assert_allclose(out[:, 1], 0.0)
    np.testing.assert_allclose(out[:, 2], math.log(0.25 / 0.75) + mean, rtol=1e-12)


@pytest.mark.parametrize("depth", [2, 4, 6])
def test_equals_brute_force_shapley(depth):
    X, y = _data(depth, n=120, p=4)
    booster = _train(X, y, depth=depth, rounds=3)
    rows = _at_thresholds(booster, X[:12], depth)
    ours = compile_booster(booster).shap_values(rows)
    np.testing.assert_allclose(ours, _brute_force_shap(booster, rows), atol=1e-12)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    depth=st.integers(1, 10),
    rounds=st.integers(1, 6),
    base_score=st.sampled_from([0.05, 0.3, 0.5, 0.9]),
    nan=st.sampled_from([0.0, 0.2]),
    tree_method=st.sampled_from(["hist", "exact"]),
    end=st.integers(0, 6),
)
def test_equals_pred_contribs(seed, depth, rounds, base_score, nan, tree_method, end):
    X, y = _data(seed, nan=nan)
    booster = _train(
        X, y, depth=depth, rounds=rounds, base_score=base_score, seed=seed,
        tree_method=tree_method,
    )  # fmt: skip
    rows = np.vstack([X[:40], _at_thresholds(booster, X[:40], seed)])
    iteration_range = (0, min(end, rounds))
    ours = compile_booster(booster, iteration_range).shap_values(rows)
    ref = _reference(booster, rows, iteration_range)
    assert ours.shape == ref.shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)
    # additivity against the float64 margin: exact up to float64 rounding
    np.testing.assert_allclose(
        ours.sum(axis=1), _margin64(booster, rows, iteration_range), atol=1e-9
    )


def test_iteration_range_from_the_middle():
    X, y = _data(3)
    booster = _train(X, y, depth=3, rounds=6)
    for begin, end in [(2, 5), (0, 1), (5, 6), (1, 6)]:
        ours = compile_booster(booster, (begin, end)).shap_values(X)
        # pred_contribs needs begin == 0: slice the model instead
        ref = _reference(booster[begin:end], X)
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)


def test_threads_give_identical_values():
    X, y = _data(4, n=400)
    booster = _train(X, y, depth=5, rounds=5)
    fast = compile_booster(booster)
    np.testing.assert_array_equal(
        fast.shap_values(X, n_threads=1), fast.shap_values(X, n_threads=2)
    )
    assert fast.shap_values(X[:0]).shape == (0, X.shape[1] + 1)


def test_logitraw_base_score_is_the_margin():
    X, y = _data(5)
    booster = _train(X, y, depth=3, rounds=3, objective="binary:logitraw")
    ours = compile_booster(booster).shap_values(X)
    np.testing.assert_allclose(ours, _reference(booster, X), rtol=1e-6, atol=1e-6)


def test_tables_built_group_by_group_within_the_bound():
    X, y = _data(6, n=300)
    booster = _train(X, y, depth=6, rounds=8)
    whole = compile_booster(booster)
    per_tree = np.diff(whole._arrays[9][np.searchsorted(
        np.flatnonzero(whole._arrays[1] < 0), whole._arrays[0]
    )]) * 8  # fmt: skip
    bound = int(per_tree.max()) + 8
    grouped = compile_booster(booster, max_table_bytes=bound)
    assert len(whole._chunks) == 1 and len(grouped._chunks) > 1
    assert whole.table_bytes == per_tree.sum() and grouped.table_bytes <= bound
    np.testing.assert_array_equal(grouped.shap_values(X), whole.shap_values(X))
    with pytest.raises(Unsupported, match="max_table_bytes"):
        compile_booster(booster, max_table_bytes=int(per_tree.max()) - 8)


def test_categorical_splits_are_refused():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "plan": pd.Categorical(rng.choice(["a", "b", "c"], 200)),
            "x": rng.standard_normal(200),
        }
    )
    y = (df["plan"] == "b").astype(int) ^ (rng.random(200) < 0.1)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 2, "tree_method": "hist"},
        xgb.DMatrix(df, label=y, enable_categorical=True),
        2,
    )
    with pytest.raises(Unsupported, match="categorical"):
        compile_booster(booster)


def test_other_objectives_and_shapes_are_refused():
    X, y = _data(8)
    reg = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(X, label=y), 1)
    with pytest.raises(Unsupported, match="reg:squarederror"):
        compile_booster(reg)
    fast = compile_booster(_train(X, y, depth=2, rounds=1))
    with pytest.raises(Unsupported, match="expects 5 columns"):
        fast.shap_values(X[:, :3])


@pytest.mark.slow
def test_larger_model_equals_pred_contribs():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((3000, 30))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, :5]).sum(1) + rng.normal(0, 1, 3000) > 0).astype(int)
    booster = _train(X, y, depth=8, rounds=60, tree_method="hist")
    ours = compile_booster(booster).shap_values(X)
    np.testing.assert_allclose(ours, _reference(booster, X), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.sum(1), _margin64(booster, X), atol=1e-9)


# --------------------------------------------------------------------------- #
# The explainer's choice of engine (CHURNKIT_TREE_SHAP)
# --------------------------------------------------------------------------- #
def _explain(monkeypatch, mode, model, X):
    from churnkit.explain import ChurnExplainer

    monkeypatch.setenv("CHURNKIT_TREE_SHAP", mode)
    return ChurnExplainer(model).explain(X)


@pytest.mark.parametrize("as_frame", [False, True])
def test_explainer_fast_equals_xgboost(monkeypatch, as_frame):
    pd = pytest.importorskip("pandas")
    X, y = _data(10, n=300)
    booster = _train(X, y, depth=4, rounds=5)
    if as_frame:
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    fast = _explain(monkeypatch, "fast", booster, X)
    ref = _explain(monkeypatch, "xgboost", booster, X)
    np.testing.assert_allclose(
        fast.values.to_numpy(), ref.values.to_numpy(), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        fast.base_values.to_numpy(), ref.base_values.to_numpy(), rtol=1e-6
    )
    np.testing.assert_allclose(
        fast.values.to_numpy().sum(1) + fast.base_values.to_numpy(),
        _margin64(booster, np.asarray(X, dtype=float)),
        atol=1e-9,
    )


def test_choice_rules(monkeypatch):
    from churnkit.explain import _treeshap_choice as choice

    X, y = _data(11, n=200)
    booster = _train(X, y, depth=3, rounds=4)
    dm = xgb.DMatrix(X)
    monkeypatch.setenv("CHURNKIT_TREE_SHAP", "auto")
    assert choice.fast_contribs(booster, dm, X, (0, 0)) is None  # 800 < AUTO_MIN_WORK
    monkeypatch.setattr(choice, "AUTO_MIN_WORK", 100)
    assert choice.fast_contribs(booster, dm, X, (0, 0)).shape == (200, 6)
    assert choice.fast_contribs(booster, dm, X.astype(object), (0, 0)) is None
    monkeypatch.setenv("CHURNKIT_TREE_SHAP", "xgboost")
    assert choice.fast_contribs(booster, dm, X, (0, 0)) is None
    monkeypatch.setenv("CHURNKIT_TREE_SHAP", "fastest")
    with pytest.raises(Exception, match="CHURNKIT_TREE_SHAP='fastest'"):
        choice.fast_contribs(booster, dm, X, (0, 0))


def test_fast_mode_warns_when_it_falls_back(monkeypatch):
    from churnkit.explain import _treeshap_choice as choice

    X, y = _data(12, n=200)
    booster = _train(X, y, depth=3, rounds=2)
    monkeypatch.setattr(choice, "_compiled", lambda b, r: Unsupported("too deep"))
    monkeypatch.setenv("CHURNKIT_TREE_SHAP", "fast")
    with pytest.warns(UserWarning, match="too deep"):
        assert choice.fast_contribs(booster, xgb.DMatrix(X), X, (0, 0)) is None
