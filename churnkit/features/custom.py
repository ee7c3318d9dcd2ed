"""User-defined features: a list of specs evaluated by the same kernel."""

from __future__ import annotations

from churnkit.features._base import WindowBuilder
from churnkit.features._spec import Derived, FeatureSpec

__all__ = ["CustomFeatures"]


class CustomFeatures(WindowBuilder):
    """Features described by :class:`FeatureSpec` and :class:`Derived` specs.

    Add a feature without writing a loop: say which table, which rows, which
    value, which aggregation and which window, and the kernel does the rest.

    Parameters
    ----------
    events : Events, default=None
        The event store.
    specs : tuple of FeatureSpec or Derived, default=()
        The features, in output order. Specs with ``output=False`` are helpers
        for derived ones.
    group : str, default="custom"
        Group of specs that do not name their own (for explanations).

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> exports = ck.FeatureSpec("usage__exports_14d", "usage", "count",
    ...                          window="14D", where={"event": "export"})
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> ck.CustomFeatures(data.events, specs=(exports,)).fit_transform(X).columns[0]
    'usage__exports_14d'
    """

    def __init__(self, events=None, *, specs=(), group="custom"):
        self.events = events
        self.specs = specs
        self.group = group

    def _make_specs(self, events, max_cutoff):
        specs = list(self.specs)
        names = [s.name for s in specs]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            from churnkit.exceptions import SchemaError

            raise SchemaError(f"Feature names must be unique; repeated: {duplicated}.")
        categorical = {
            s.name: (s.table, s.column)
            for s in specs
            if isinstance(s, FeatureSpec)
            and s.agg in ("last", "first")
            and s.match is None
            and s.table != "customers"
            and (events._engine.table(s.table) is not None)
            and events._engine.table(s.table).kinds.get(s.column) == "category"
        }
        return specs, categorical


__all__ += ["FeatureSpec", "Derived"]
