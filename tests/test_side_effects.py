"""Process-wide settings change only on request (ck.set_memory_tuning)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit import _memory
from churnkit.events._read import _read_parquet


class FakeLibc:
    """Records mallopt calls instead of changing the allocator."""

    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = FakeLibc()
    monkeypatch.setattr(_memory, "_glibc", lambda: fake)
    monkeypatch.setattr(_memory, "_numpy_hugepage_switch", lambda: None)
    yield fake
    ck.set_memory_tuning(False)


def _build():
    ck.datasets.make_saas_events(n_customers=50, random_state=0)


def test_library_calls_leave_the_allocator_alone_by_default(libc):
    assert _memory.memory_tuning_enabled() is False
    _build()
    assert libc.calls == []


def test_memory_tuning_on_request_and_restored(libc):
    assert ck.set_memory_tuning(True) is False
    _build()
    assert libc.calls, "the tuning was requested but not applied"
    # every scope ends with glibc's defaults restored
    assert libc.calls[-2:] == [
        (_memory._M_MMAP_MAX, _memory._DEFAULT_MMAP_MAX),
        (_memory._M_TRIM_THRESHOLD, _memory._DEFAULT_TRIM_THRESHOLD),
    ]
    assert ck.set_memory_tuning(False) is True
    libc.calls.clear()
    _build()
    assert libc.calls == []


def test_set_memory_tuning_refuses_non_bools():
    with pytest.raises(ck.ChurnkitTypeError, match="True or False"):
        ck.set_memory_tuning("yes")


def test_pyarrow_pool_is_swapped_only_on_request(tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    path = tmp_path / "usage.parquet"
    pd.DataFrame({"customer_id": ["a", "b"], "kind": ["x", "y"]}).to_parquet(path)
    swaps = []
    original = pa.set_memory_pool
    monkeypatch.setattr(pa, "set_memory_pool", lambda p: swaps.append(p) or original(p))
    frame = _read_parquet(path)
    assert swaps == [] and list(frame["kind"]) == ["x", "y"]
    before = ck.set_memory_tuning(True)
    try:
        _read_parquet(path)
    finally:
        ck.set_memory_tuning(before)
    assert len(swaps) == 2  # the system pool, then the default back
    assert np.all([p is not None for p in swaps])


# --------------------------------------------------------------------------- #
# Progress bars
# --------------------------------------------------------------------------- #
def test_no_bar_and_no_control_characters_when_stderr_is_not_a_terminal(capsys, caplog):
    from churnkit import _progress

    with caplog.at_level("INFO", logger="churnkit"):
        out = list(_progress.progress_bar(range(3), desc="folds", unit="fold"))
    assert out == [0, 1, 2]
    assert capsys.readouterr().err == ""  # nothing written: the steps are logged
    assert [r.getMessage() for r in caplog.records] == [
        "folds: 1/3 fold",
        "folds: 2/3 fold",
        "folds: 3/3 fold",
    ]


def test_progress_off_returns_the_iterable_itself():
    from churnkit import _progress

    items = [1, 2]
    assert _progress.progress_bar(items, desc="x", unit="y", enabled=False) is items


def test_notebook_without_ipywidgets_gets_a_text_bar_and_no_warning(monkeypatch):
    import warnings

    from tqdm.std import tqdm

    from churnkit import _progress

    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(_progress.importlib.util, "find_spec", lambda name: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a TqdmWarning would raise here
        bar = _progress.progress_bar(range(2), desc="features", unit="builder")
        assert type(bar) is tqdm
        assert list(bar) == [0, 1]


def test_terminal_gets_a_tqdm_bar(monkeypatch):
    from tqdm.std import tqdm

    from churnkit import _progress

    monkeypatch.setattr(_progress, "_is_terminal", lambda stream: True)
    bar = _progress.progress_bar(range(2), desc="backtest", unit="fold")
    assert type(bar) is tqdm
    bar.close()


def test_features_progress_in_a_log_file_writes_no_bar(saas, capsys):
    cutoffs = ck.make_cutoffs(saas.events, start="2024-06-01", end="2024-07-01")
    ck.ChurnFeatures(saas.events, include=("usage",), progress=True).fit_transform(
        cutoffs
    )
    assert "\r" not in capsys.readouterr().err


def test_the_command_line_tunes_memory_and_restores_the_setting(monkeypatch):
    import churnkit.cli as cli

    seen = []
    monkeypatch.setattr(
        cli, "_run", lambda args, say: seen.append(_memory.memory_tuning_enabled())
    )
    before = ck.set_memory_tuning(False)
    try:
        assert cli.main(["demo"]) is None  # the faked command's result
        assert seen == [True]  # on while the command runs
        assert _memory.memory_tuning_enabled() is False  # restored for the caller
    finally:
        ck.set_memory_tuning(before)
