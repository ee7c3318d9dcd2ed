"""The person-period expansion leaves an interval by follow-up, never by outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.survival._discrete import expand, follow_up


def test_follow_up_is_the_cutoffs_longest_censored_duration():
    index = pd.MultiIndex.from_tuples(
        [("a", "2020-06-01"), ("b", "2020-06-01"), ("c", "2020-03-01"),
         ("d", "2020-03-01"), ("e", "2020-05-01")],
        names=["customer_id", "cutoff_time"],
    )  # fmt: skip
    duration = np.array([10.0, 30.0, 5.0, 122.0, 3.0])
    event = np.array([1, 0, 1, 0, 1], dtype=bool)
    # June rows end at 30 days, March at 122; May's only row churned: +inf
    np.testing.assert_array_equal(
        follow_up(index, duration, event), [30.0, 30.0, 122.0, 122.0, np.inf]
    )
    assert follow_up(pd.RangeIndex(5), duration, event) is None


def test_a_churner_followed_less_than_half_leaves_with_its_peers():
    """Interval [30, 60): a recent cutoff followed 40 days (under the 45-day
    middle) leaves it whether it churned at 35 days or not; before, the
    churner stayed alone and the interval's hazard read 1 for that cutoff."""
    Xm = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    duration = np.array([35.0, 40.0, 50.0, 100.0])
    event = np.array([1, 0, 1, 0], dtype=bool)
    edges = np.array([0.0, 30.0, 60.0, 120.0])
    followed = np.array([40.0, 40.0, 120.0, 120.0])
    X, target, rows = expand(Xm, duration, event, edges, followed)
    second = X["interval_start_days"].to_numpy() == 30.0
    assert rows[second].tolist() == [2, 3] and target[second].tolist() == [1.0, 0.0]
    # without the follow-up, the churner alone stays (the old, biased rule)
    X, target, rows = expand(Xm, duration, event, edges)
    second = X["interval_start_days"].to_numpy() == 30.0
    assert rows[second].tolist() == [0, 2, 3]
