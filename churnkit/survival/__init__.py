"""Time to churn: survival frames from the event tables and a survival model.

:func:`label_survival` turns cutoffs into ``(duration, event)`` rows under the
same point-in-time rules as :func:`churnkit.label_churn`; :func:`survival_array`
exports them for scikit-survival; :class:`ChurnSurvival` predicts survival
curves, P(churn within h) for any horizon and the time to churn.
"""

from __future__ import annotations

from churnkit.survival._labels import label_survival, survival_array
from churnkit.survival._model import ChurnSurvival

__all__ = ["ChurnSurvival", "label_survival", "survival_array"]
