"""make_churn_pipeline's own checks. Its use with scikit-learn's tools (clone,
GridSearchCV, cross_validate, joblib) is tested in tests/test_common.py."""

from __future__ import annotations

import pytest

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError


def test_unknown_feature_parameter():
    with pytest.raises(ChurnkitTypeError, match="unknown parameter"):
        ck.make_churn_pipeline(None, window=("30D",))
