"""Survival metrics against hand-computed values, and the Breslow baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.exceptions import SchemaError
from churnkit.survival._cox import breslow

# rows (duration, event): A censored at 1, B churns at 2, C censored at 3,
# D churns at 4, E churns at 5. Censoring Kaplan-Meier: G = 0.8 after 1,
# 0.8 * 2/3 after 3.
Y = ck.survival_array(
    pd.DataFrame({"duration": [1.0, 2.0, 3.0, 4.0, 5.0], "event": [0, 1, 0, 1, 1]})
)
G1, G3 = 0.8, 0.8 * 2 / 3


def test_harrell_and_uno_by_hand():
    scores = [9.0, 5.0, 2.0, 3.0, 4.0]
    # comparable: (B,C) (B,D) (B,E) concordant, (D,E) discordant
    assert ck.concordance_index(Y, scores) == pytest.approx(3 / 4)
    uno = (3 / G1**2) / (3 / G1**2 + 1 / G3**2)
    assert ck.concordance_index(Y, scores, method="uno") == pytest.approx(uno)
    # tau=3.5 keeps only the pairs of B
    assert ck.concordance_index(Y, scores, tau=3.5) == 1.0
    # ties in score count one half
    assert ck.concordance_index(Y, [0.0, 1.0, 1.0, 1.0, 1.0]) == pytest.approx(0.5)


def test_time_dependent_auc_by_hand():
    scores = [0.0, 3.5, 9.0, 3.0, 3.2]
    auc = ck.time_dependent_auc(Y, scores, [2.5, 4.5])
    # t=2.5: case B vs controls C, D, E: 3.5 beats 3.0 and 3.2, and C's 9.0 beats it
    assert auc.iloc[0] == pytest.approx(2 / 3)
    # t=4.5: cases B (w 1/G(2-) = 1.25), D (w 1/G(4-)); control E (3.2)
    assert auc.iloc[1] == pytest.approx((1 / G1) / (1 / G1 + 1 / G3))
    assert list(auc.index) == [2.5, 4.5]
    assert 0 <= auc.attrs["mean"] <= 1


def test_brier_by_hand():
    times = [2.5, 4.5]
    half = np.full((5, 2), 0.5)
    # every weighted term is 0.25 / G; they average to 0.25 at each time
    assert ck.integrated_brier_score(Y, half, times) == pytest.approx(0.25)
    S = np.array([[0.9, 0.8], [0.2, 0.1], [0.7, 0.6], [0.8, 0.3], [0.9, 0.7]])
    bs1 = (S[1, 0] ** 2 / G1 + sum((1 - S[j, 0]) ** 2 / G1 for j in (2, 3, 4))) / 5
    bs2 = (S[1, 1] ** 2 / G1 + S[3, 1] ** 2 / G3 + (1 - S[4, 1]) ** 2 / G3) / 5
    expected = (bs1 + bs2) / 2  # trapezoid over [2.5, 4.5] divided by 2
    assert ck.integrated_brier_score(Y, S, times) == pytest.approx(expected)


def test_breslow_by_hand():
    times, H = breslow(
        np.zeros(4), np.array([1.0, 2.0, 2.0, 3.0]), np.array([1, 1, 0, 1], bool)
    )
    assert times.tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_allclose(H, [1 / 4, 1 / 4 + 1 / 3, 1 / 4 + 1 / 3 + 1])
    # risk scores scale the at-risk sums
    _, H = breslow(np.log([1.0, 2.0]), np.array([1.0, 2.0]), np.array([1, 1], bool))
    np.testing.assert_allclose(H, [1 / 3, 1 / 3 + 1 / 2])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 10), st.booleans(), st.integers(0, 4)),
        min_size=2,
        max_size=30,
    )
)
def test_concordance_matches_the_pair_definition(rows):
    t = np.array([r[0] for r in rows], float)
    e = np.array([r[1] for r in rows])
    r = np.array([r[2] for r in rows], float)
    conc = comp = 0.0
    for i in range(len(t)):
        for j in range(len(t)):
            if e[i] and t[i] < t[j]:
                comp += 1
                conc += 1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0
    y = ck.survival_array(pd.DataFrame({"duration": t, "event": e.astype(int)}))
    if comp == 0:
        with pytest.raises(SchemaError, match="no comparable pair"):
            ck.concordance_index(y, r)
    else:
        assert ck.concordance_index(y, r) == pytest.approx(conc / comp)


def test_metric_errors():
    with pytest.raises(SchemaError, match="3 values for 5 rows"):
        ck.concordance_index(Y, [1.0, 2.0, 3.0])
    with pytest.raises(SchemaError, match="method"):
        ck.concordance_index(Y, np.arange(5.0), method="x")
    with pytest.raises(SchemaError, match="increasing"):
        ck.integrated_brier_score(Y, np.ones((5, 1)), [3.0])
    with pytest.raises(SchemaError, match="shape"):
        ck.time_dependent_auc(Y, np.ones((5, 3)), [1.0, 2.0])
