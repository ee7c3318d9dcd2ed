"""Encoders for dense models (logistic regression, user estimators).

A fitted :class:`~churnkit.models._prep.TablePrep` says which columns are
numbers and which are categories; the encoder imputes (with indicators) and
scales the numbers and one-hot encodes the categories, and
:func:`encoder_sources` maps each output column back to its user feature.
"""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

__all__ = ["encoder_sources", "fit_encoder"]


def _make_encoder(numeric: list, categorical: list) -> ColumnTransformer:
    transformers = []
    if numeric:
        num = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(
                        strategy="median", add_indicator=True, keep_empty_features=True
                    ),
                ),
                ("scale", StandardScaler()),
            ]
        )
        transformers.append(("num", num, list(numeric)))
    if categorical:
        ohe = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        transformers.append(("cat", ohe, list(categorical)))
    return ColumnTransformer(transformers, verbose_feature_names_out=False)


def fit_encoder(Xp: pd.DataFrame, prep) -> ColumnTransformer:
    """The fitted one-hot / scaling encoder of ``prep``'s columns (a TablePrep)."""
    enc = _make_encoder(prep.numeric_columns_, prep.categorical_columns_)
    enc.set_output(transform="pandas")
    try:
        enc.fit(Xp)
    except ValueError as exc:  # two output names collide: keep the prefixes
        if "not unique" not in str(exc):
            raise
        enc.set_params(verbose_feature_names_out=True).fit(Xp)
    return enc


def encoder_sources(enc: ColumnTransformer) -> list:
    """User feature of each output column of a fitted encoder, in order."""
    sources = []
    for name, trans, cols in enc.transformers_:
        if name == "num":
            sources += list(cols)
            indicator = trans.named_steps["impute"].indicator_
            if indicator is not None:
                sources += [cols[i] for i in indicator.features_]
        elif name == "cat":
            for col, levels in zip(cols, trans.categories_, strict=True):
                sources += [col] * len(levels)
    return sources
