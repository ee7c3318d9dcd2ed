"""The model behind an explanation, and the three ways of computing SHAP values.

A :class:`Target` wraps what the user passed (a churn pipeline, a
``ChurnClassifier``, a pipeline ending in one, or a bare xgboost model) and
answers four questions: what are the features of ``X``, what does the base
model see, how do its input columns map back to features, and how does its
log-odds margin become a probability. The engines compute SHAP values of the
margin on the model input:

- ``tree``: exact TreeSHAP (``_treeshap``'s path weights or xgboost's
  ``pred_contribs``, see :func:`tree_shap`);
- ``linear``: ``coef * (x - reference)``, the closed form of a linear model;
- ``generic``: ``shap.Explainer`` on the margin with a background sample.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from churnkit._logging import warn
from churnkit.exceptions import (
    ChurnkitTypeError,
    ChurnkitWarning,
    NotFittedError,
    SchemaError,
)
from churnkit.explain._treeshap_choice import fast_contribs

__all__ = ["resolve"]

_ACCEPTED = (
    "a fitted churn pipeline (ck.make_churn_pipeline(...).fit(X, y)), a fitted "
    "ChurnClassifier, a scikit-learn Pipeline ending in one, or a fitted "
    "xgboost.XGBClassifier or xgboost.Booster"
)
_XGB_OBJECTIVES = ("binary:logistic", "binary:logitraw")
MAX_BACKGROUND = 100  # rows of background for the generic shap explainer


def resolve(model, *, n_jobs=None):
    """Return the :class:`Target` for a fitted model (see ``_ACCEPTED``)."""
    transforms, final = [], model
    if hasattr(model, "steps") and isinstance(model.steps, list):
        if not model.steps:
            raise SchemaError("The pipeline has no steps; pass a fitted churn model.")
        transforms = [
            step for _, step in model.steps[:-1] if step not in (None, "passthrough")
        ]
        final = model.steps[-1][1]
    from churnkit.models import ChurnClassifier

    if isinstance(final, ChurnClassifier):
        if not hasattr(final, "estimator_"):
            raise NotFittedError(
                "This ChurnClassifier is not fitted yet: call `fit(X, y)` on the "
                "model (or pipeline) before explaining it."
            )
        return ChurnClassifierTarget(final, transforms, n_jobs=n_jobs)
    if type(final).__module__.split(".")[0] == "xgboost":
        return XGBoostTarget(final, transforms, n_jobs=n_jobs)
    if isinstance(final, type):
        raise ChurnkitTypeError(
            f"`model` must be a fitted model instance, not the class "
            f"{final.__name__}; got {final!r}."
        )
    raise ChurnkitTypeError(
        f"`model` must be {_ACCEPTED}; got {type(final).__name__}. Wrap other "
        "estimators in ChurnClassifier(model=your_estimator) and fit it."
    )


def _transform(transforms, X):
    for step in transforms:
        X = step.transform(X)
    return X


class Target:
    """What the explainer needs from a model (see the module docstring)."""

    kind = ""  # "xgboost" | "logistic" | "estimator"
    method = ""  # "tree_shap" | "linear" | "shap_exact" | "shap_permutation"
    feature_map = None  # model input column -> feature; None: the identity
    transforms: list = []

    def prepare(self, X):
        """``(features, model_input)`` of ``X``.

        ``features`` is the user's feature table (after the pipeline's
        transformers), a DataFrame; ``model_input`` is what the base model sees.
        """
        F = _transform(self.transforms, X)
        Xm = self.model_input(F, X)  # the model checks the columns of F
        names = self.feature_names(F)
        if not isinstance(F, pd.DataFrame):
            values = np.asarray(F)
            if values.ndim != 2:
                raise SchemaError(
                    f"X must be a 2-D table of features; got shape {values.shape}."
                )
            index = Xm.index if isinstance(Xm, pd.DataFrame) else None
            F = pd.DataFrame(values, columns=names, index=index, copy=False)
        elif list(F.columns) != names and len(F.columns) == len(names):
            F = F.set_axis(names, axis=1)  # e.g. integer column labels
        return F, Xm

    def calibrate(self, margin):
        """Calibrated churn probability of a margin."""
        return expit(np.asarray(margin, dtype="float64"))


class ChurnClassifierTarget(Target):
    """A fitted ChurnClassifier, after ``transforms``."""

    def __init__(self, clf, transforms, *, n_jobs=None):
        self.clf = clf
        self.transforms = transforms
        self.kind = clf.model_kind_
        self.feature_map = dict(clf.feature_map_)
        self.method = {"xgboost": "tree_shap", "logistic": "linear"}.get(self.kind, "")
        if self.kind == "xgboost":
            self._booster = _booster_with_threads(clf.estimator_.get_booster(), n_jobs)
            self._nthread = _threads(n_jobs if n_jobs is not None else clf.n_jobs)
            self.iteration_range = (0, int(clf.best_iteration_) + 1)

    def feature_names(self, F) -> list:
        names = getattr(self.clf, "feature_names_in_", None)
        if names is not None:
            return [str(c) for c in names]
        return [f"x{i}" for i in range(self.clf.n_features_in_)]

    def model_input(self, F, X) -> pd.DataFrame:
        return self.clf.model_input(F)

    def prepare(self, X):
        """As :meth:`Target.prepare`; columns of numbers written as text (a
        CSV's ``TotalCharges``) are shown as the numbers the model reads, so
        they read "1,234.50 (typical: 1,397.48)", with a median as typical."""
        F, Xm = super().prepare(X)
        prep = getattr(self.clf, "preprocessor_", None)
        if hasattr(prep, "named_steps"):  # logistic: Pipeline(table=TablePrep, ...)
            prep = prep.named_steps.get("table")
        numeric = getattr(prep, "numeric_columns_", ())
        # one dict, not a Series per column (~9 ms per request)
        dtypes = dict(zip(F.columns.tolist(), F.dtypes.tolist(), strict=True))
        text = [
            c
            for c in numeric
            if c in dtypes and not pd.api.types.is_numeric_dtype(dtypes[c])
        ]
        if text:
            # xgboost's model input is the TablePrep output: no second pass
            numbers = Xm if prep is self.clf.preprocessor_ else prep.transform(F)
            F = F.assign(**{c: numbers[c].to_numpy() for c in text})
        return F, Xm

    def calibrate(self, margin):
        return self.clf.calibrate_margin(margin)

    def margin_of_features(self, F) -> np.ndarray:
        """The base model's margin of feature rows (``decision_function``)."""
        return self.clf.decision_function(F)

    def margin_of_input(self, Xm) -> np.ndarray:
        """The base model's margin of model-input rows, as ChurnClassifier has it."""
        est = self.clf.estimator_
        if not hasattr(est, "predict_proba"):
            return np.asarray(est.decision_function(Xm), dtype="float64").ravel()
        proba = est.predict_proba(Xm)[:, list(est.classes_).index(1)]
        return logit(np.clip(proba, 1e-12, 1 - 1e-12))

    def contributions(self, Xm, background, *, random_state=0):
        """SHAP values of the margin per model-input column, and base values.

        ``background`` is the model input of the explainer's background rows, or
        None: then linear models use :meth:`training_reference` and other
        estimators a sample of at most 100 explained rows.
        """
        if self.kind == "xgboost":
            from churnkit.models._dmatrix import dmatrix

            dmat = dmatrix(Xm, nthread=self._nthread)
            return tree_shap(
                self._booster, dmat, self.iteration_range, Xm, self._nthread
            )
        if self.kind == "logistic":
            est = self.clf.estimator_
            reference = (
                self.training_reference(Xm)
                if background is None
                else background.to_numpy(dtype="float64").mean(axis=0)
            )
            return linear_shap(
                Xm, est.coef_.ravel(), float(est.intercept_[0]), reference
            )
        tree = sklearn_tree_shap(self.clf.estimator_, Xm, self.margin_of_input)
        if tree is not None:
            self.method = "tree_shap"
            return tree
        if background is None:
            background = Xm.sample(
                min(len(Xm), MAX_BACKGROUND), random_state=random_state
            )
        values, base, self.method = generic_shap(
            self.margin_of_input, Xm, background, seed=random_state
        )
        return values, base

    def training_reference(self, Xm: pd.DataFrame) -> np.ndarray:
        """Mean model input over the training rows, as far as the model knows it.

        ``input_mean_`` when the classifier exposes it; otherwise 0 for the
        standardized columns (their training mean, by construction) and the mean
        over ``Xm`` (the explained rows) for the others (one-hot levels).
        """
        exposed = getattr(self.clf, "input_mean_", None)
        if exposed is not None:
            return np.asarray(pd.Series(exposed)[list(Xm.columns)], dtype="float64")
        reference = Xm.to_numpy(dtype="float64").mean(axis=0)
        try:
            encoder = self.clf.preprocessor_.named_steps["encode"]
            scaler = encoder.named_transformers_["num"].named_steps["scale"]
            if scaler.with_mean:
                reference[encoder.output_indices_["num"]] = 0.0
        except (AttributeError, KeyError, TypeError):
            pass
        return reference


class XGBoostTarget(Target):
    """A bare fitted xgboost model: X is its input table; probabilities are expit."""

    kind = "xgboost"
    method = "tree_shap"

    def __init__(self, model, transforms, *, n_jobs=None):
        import xgboost as xgb

        self.transforms = transforms
        if isinstance(model, xgb.XGBClassifier):
            try:
                booster = model.get_booster()
            except xgb.core.XGBoostError:
                raise NotFittedError(
                    "This XGBClassifier is not fitted yet: call `fit` first."
                ) from None
            try:
                best = model.best_iteration  # set by early stopping only
                self.iteration_range = (0, int(best) + 1)
            except AttributeError:
                self.iteration_range = (0, 0)
            threads = model.n_jobs
        elif isinstance(model, xgb.Booster):
            booster, self.iteration_range, threads = model, (0, 0), None
        else:
            raise ChurnkitTypeError(
                f"`model` must be {_ACCEPTED}; got {type(model).__name__}."
            )
        objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
        if objective not in _XGB_OBJECTIVES:
            raise SchemaError(
                f"Only binary classifiers can be explained as churn models; the "
                f"booster's objective is {objective!r}. Train it with "
                "objective='binary:logistic'."
            )
        self._booster = _booster_with_threads(booster, n_jobs)
        self._nthread = _threads(n_jobs if n_jobs is not None else threads)

    def feature_names(self, F) -> list:
        if isinstance(F, pd.DataFrame):
            return [str(c) for c in F.columns]
        names = self._booster.feature_names
        n = np.shape(F)[1]
        return list(names) if names is not None else [f"f{i}" for i in range(n)]

    def model_input(self, F, X):
        if not self.transforms and isinstance(X, np.ndarray) and X.ndim == 2:
            return X  # a numpy X goes to xgboost as it is
        return F

    def margin_of_features(self, F) -> np.ndarray:
        """The booster's margin of feature rows, over the explained trees."""
        from xgboost import DMatrix

        if self._booster.feature_names is None:  # trained on a bare matrix
            F = np.asarray(F, dtype="float64")
        dmat = DMatrix(F, enable_categorical=True, nthread=self._nthread)
        return self._booster.predict(
            dmat, output_margin=True, iteration_range=self.iteration_range
        )

    def contributions(self, Xm, background, *, random_state=0):
        from xgboost import DMatrix

        names = None if isinstance(Xm, pd.DataFrame) else self._booster.feature_names
        dmat = DMatrix(
            Xm, enable_categorical=True, nthread=self._nthread, feature_names=names
        )
        return tree_shap(self._booster, dmat, self.iteration_range, Xm, self._nthread)


def _threads(n_jobs) -> int:
    from joblib import effective_n_jobs

    return int(effective_n_jobs(n_jobs))


def _booster_with_threads(booster, n_jobs):
    """The booster itself, or a copy using ``n_jobs`` threads when one is given."""
    if n_jobs is None:
        return booster
    booster = booster.copy()
    booster.set_param({"nthread": _threads(n_jobs)})
    return booster


# --------------------------------------------------------------------------- #
# The engines: (values of shape (n, q), base values of shape (n,)), float64
# --------------------------------------------------------------------------- #
def tree_shap(booster, dmatrix, iteration_range, Xm=None, nthread=None):
    """TreeSHAP of the margin over trees ``[iteration_range)``.

    Equals ``shap.TreeExplainer(booster).shap_values`` (path-dependent TreeSHAP).
    Computed by churnkit's precomputed path weights where they are faster and
    the model allows them, else by xgboost's ``pred_contribs`` (the reference,
    float32); ``CHURNKIT_TREE_SHAP=auto|fast|xgboost`` chooses (see
    :mod:`churnkit.explain._treeshap_choice`). The values add up to the margin
    to about 1e-6 relative.
    """
    contribs = fast_contribs(booster, dmatrix, Xm, iteration_range, nthread)
    if contribs is not None:
        return np.ascontiguousarray(contribs[:, :-1]), contribs[:, -1].copy()
    contribs = booster.predict(
        dmatrix, pred_contribs=True, iteration_range=iteration_range
    )
    return contribs[:, :-1].astype(np.float64), contribs[:, -1].astype(np.float64)


def linear_shap(Xm, coef, intercept, reference):
    """Closed-form SHAP values of ``intercept + coef @ x`` with independent inputs.

    ``values = coef * (x - reference)``, ``base = intercept + coef @ reference``:
    the SHAP values of a linear model when the features are treated as
    independent, with ``reference`` the mean input of the background.
    """
    X = np.asarray(Xm, dtype="float64")
    reference = np.asarray(reference, dtype="float64")
    values = (X - reference) * coef
    base = np.full(len(X), intercept + float(coef @ reference))
    return values, base


_RAW_TREES = ("HistGradientBoostingClassifier", "LGBMClassifier")
_PROBA_TREES = (
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "DecisionTreeClassifier",
    "ExtraTreeClassifier",
)


def sklearn_tree_shap(est, Xm, margin):
    """``shap.TreeExplainer`` values of a tree ensemble's margin, or None.

    scikit-learn's HistGradientBoosting and LightGBM: the explainer's raw
    output is the log-odds margin. Random forests, extra trees and single
    trees: their TreeSHAP values explain the class-1 probability ``p``; they are
    spread onto the margin ``logit(p)`` with the secant slope ``(logit(p) -
    logit(p0)) / (p - p0)`` (``p0`` the expected probability), so each row
    still adds up exactly and keeps signs and ranks. Values are checked to add
    up to ``margin(Xm)`` within 1e-6 (relative above 1); None when the
    estimator is not one of these, or the check fails (the caller falls back
    to the generic explainer).
    """
    name = type(est).__name__
    if name not in _RAW_TREES + _PROBA_TREES:
        return None
    import shap

    X = np.asarray(Xm, dtype="float64")
    try:
        explainer = shap.TreeExplainer(est)
        values = explainer.shap_values(X, check_additivity=False)
    except Exception as exc:  # noqa: BLE001 - shap cannot read this model
        warn(
            f"shap.TreeExplainer could not explain this {name} ({exc}); using the "
            "generic (permutation) explainer instead, which is exact in sum but "
            "much slower.",
            ChurnkitWarning,
        )
        return None
    expected = np.ravel(np.asarray(explainer.expected_value, dtype="float64"))
    values = np.asarray(values[1] if isinstance(values, list) else values, float)
    classes = list(getattr(est, "classes_", [0, 1]))
    column = classes.index(1) if 1 in classes else len(classes) - 1
    if values.ndim == 3:
        values = values[:, :, column]
    base0 = expected[column] if len(expected) > 1 else expected[0]
    target = np.asarray(margin(Xm), dtype="float64")
    if name in _PROBA_TREES:
        eps = 1e-12
        p0 = float(np.clip(base0, eps, 1 - eps))
        p = np.clip(base0 + values.sum(axis=1), eps, 1 - eps)
        m0 = float(logit(p0))
        delta = p - p0
        close = np.abs(delta) < 1e-9
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(close, 1 / (p * (1 - p)), (logit(p) - m0) / delta)
        values = values * slope[:, None]
        base = np.full(len(X), m0)
    else:
        base = np.full(len(X), float(base0))
    error = np.abs(base + values.sum(axis=1) - target)
    if not np.all(error <= 1e-6 * np.maximum(1.0, np.abs(target))):
        return None
    return values, base


def generic_shap(margin, Xm, background, *, seed=0):
    """SHAP values of any margin function with ``shap.Explainer``.

    ``background`` (at most 100 rows, sampled by shap's masker) stands in for
    absent features; the exact explainer is used up to 10 model-input columns,
    the permutation explainer (one or more antithetic permutations) above.
    Both add up exactly: values sum to ``margin(x) - mean(margin(background))``.
    """
    import shap

    columns = list(Xm.columns)
    X = Xm.to_numpy(dtype="float64")

    def f(Z):
        return margin(pd.DataFrame(Z, columns=columns))

    bg = np.asarray(background, dtype="float64")
    masker = shap.maskers.Independent(bg, max_samples=MAX_BACKGROUND)
    q = X.shape[1]
    if q <= 10:
        explainer = shap.explainers.ExactExplainer(f, masker)
        out = explainer(X, silent=True)
        method = "shap_exact"
    else:
        explainer = shap.explainers.PermutationExplainer(f, masker, seed=seed)
        out = explainer(X, max_evals=max(500, 2 * q + 2), silent=True)
        method = "shap_permutation"
    base = np.asarray(out.base_values, dtype="float64").reshape(len(X))
    return np.asarray(out.values, dtype="float64"), base, method
