"""A saved Events store cannot be half-written (issue 16, deliverable 3).

``Events.save`` writes a new version folder and swaps it in atomically; a
manifest of checksums is verified at load; damaged arrays fail with a clear
error instead of wrong features or a crash; a save killed at random points
(subprocess + SIGKILL) never leaves a store that loads mixed; a process scoring
from the old memory-mapped store keeps going while another re-saves.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, SchemaError

POSIX = pytest.mark.skipif(os.name != "posix", reason="needs fork/SIGKILL semantics")


def _store(n_customers, seed):
    """A small store built from random tables (fast, unlike a full simulation)."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:03d}" for i in range(n_customers)]
    start = pd.Timestamp("2024-01-01")
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_time": start
            + pd.to_timedelta(rng.integers(0, 30, n_customers), "D"),
            "plan": rng.choice(["pro", "basic"], n_customers),
        }
    )
    n = 40 * n_customers
    usage = pd.DataFrame(
        {
            "customer_id": rng.choice(ids, n),
            "time": start + pd.to_timedelta(rng.integers(30 * 24, 200 * 24, n), "h"),
            "event": rng.choice(["login", "export", "view"], n),
        }
    )
    billing = pd.DataFrame(
        {
            "customer_id": rng.choice(ids, n // 10),
            "time": start + pd.to_timedelta(rng.integers(30, 200, n // 10), "D"),
            "kind": rng.choice(["invoice", "payment"], n // 10),
            "amount": rng.uniform(10, 100, n // 10).round(2),
        }
    )
    return ck.Events(customers=customers, usage=usage, billing=billing)


@pytest.fixture(scope="module")
def two_stores():
    return _store(80, 0), _store(90, 1)


def _version(path):
    return path / (path / "CURRENT").read_text().strip()


def _same_store(loaded, events) -> bool:
    if len(loaded.customers) != len(events.customers):
        return False
    if not loaded.customers.equals(events.customers):
        return False
    for name in events._engine.tables:
        if not loaded.frame(name).equals(events.frame(name)):
            return False
    return loaded.observed_until == events.observed_until


def test_save_writes_a_version_and_a_pointer(two_stores, tmp_path):
    a, b = two_stores
    path = a.save(tmp_path / "store")
    first = _version(path)
    assert sorted(p.name for p in path.iterdir()) == ["CURRENT", first.name]
    manifest = json.loads((first / "manifest.json").read_text())["files"]
    assert "events.json" in manifest and "usage.time.npy" in manifest
    assert all(len(v["blake2b"]) == 128 for v in manifest.values())
    b.save(path)
    second = _version(path)
    assert second != first and not first.exists()  # the old version is removed
    assert _same_store(ck.Events.load(path), b)


def test_a_reader_of_the_old_store_keeps_a_valid_mapping(two_stores, tmp_path):
    a, b = two_stores
    path = a.save(tmp_path / "store")
    old = ck.Events.load(path)
    X = ck.make_cutoffs(old, at="2024-06-01")
    before = ck.UsageFeatures(old, windows=("30D",)).fit_transform(X)
    b.save(path)  # replaces the files old has memory-mapped
    after = ck.UsageFeatures(old, windows=("30D",)).fit_transform(X)
    pd.testing.assert_frame_equal(before, after)
    assert _same_store(ck.Events.load(path), b)


def test_edited_array_is_a_clear_error(two_stores, tmp_path):
    path = two_stores[0].save(tmp_path / "store")
    file = _version(path) / "usage.time.npy"
    data = bytearray(file.read_bytes())
    data[-3] ^= 0x10
    file.write_bytes(data)
    with pytest.raises(SchemaError, match=r"usage.time.npy \(checksum\)"):
        ck.Events.load(path)
    # the documented fast path checks sizes and metadata only
    ck.Events.load(path, verify="fast")


def test_edited_metadata_is_a_clear_error_also_on_the_fast_path(two_stores, tmp_path):
    """Editing the end-of-data date must not relabel rows silently."""
    path = two_stores[0].save(tmp_path / "store")
    meta_file = _version(path) / "events.json"
    meta = json.loads(meta_file.read_text())
    meta["observed_until"] = "2030-01-01T00:00:00"
    meta_file.write_text(json.dumps(meta, indent=1))
    for verify in (True, "fast"):
        with pytest.raises(SchemaError, match=r"events.json"):
            ck.Events.load(path, verify=verify)


def test_truncated_or_extra_files_are_errors(two_stores, tmp_path):
    path = two_stores[0].save(tmp_path / "store")
    file = _version(path) / "billing.col.amount.npy"
    file.write_bytes(file.read_bytes()[:-8])
    with pytest.raises(SchemaError, match=r"billing.col.amount.npy \(size"):
        ck.Events.load(path, verify="fast")
    path = two_stores[0].save(tmp_path / "other")
    (_version(path) / "stray.npy").write_bytes(b"")
    with pytest.raises(SchemaError, match=r"unexpected files \['stray.npy'\]"):
        ck.Events.load(path)


def test_corrupted_offsets_fail_at_load_even_unverified(two_stores, tmp_path):
    path = two_stores[0].save(tmp_path / "store")
    file = _version(path) / "usage.offsets.npy"
    offsets = np.load(file)
    offsets[5] = 10**12  # would read far outside the arrays
    np.save(file, offsets)
    with pytest.raises(SchemaError, match=r"usage.offsets.npy \(checksum\)"):
        ck.Events.load(path)
    with pytest.raises(SchemaError, match=r"table 'usage': offsets are not 0\.\."):
        ck.Events.load(path, verify=False)


def test_category_codes_out_of_range_fail_at_load(two_stores, tmp_path):
    path = two_stores[0].save(tmp_path / "store")
    file = _version(path) / "usage.col.event.npy"
    codes = np.load(file)
    codes[0] = 120
    np.save(file, codes)
    with pytest.raises(SchemaError, match=r"column 'event' codes out of range"):
        ck.Events.load(path, verify=False)


def test_pointer_to_nowhere_and_bad_verify(two_stores, tmp_path):
    path = two_stores[0].save(tmp_path / "store")
    (path / "CURRENT").write_text("store-0000\n")
    with pytest.raises(SchemaError, match=r"names 'store-0000', which does not"):
        ck.Events.load(path)
    (path / "CURRENT").write_text("../../etc\n")
    with pytest.raises(SchemaError, match=r"not a store version"):
        ck.Events.load(path)
    with pytest.raises(ChurnkitTypeError, match=r"`verify` must be True, False"):
        ck.Events.load(path, verify="yes")


def test_newer_store_format_says_upgrade(two_stores, tmp_path):
    path = two_stores[0].save(tmp_path / "store")
    meta_file = _version(path) / "events.json"
    meta = json.loads(meta_file.read_text())
    meta.update(format_version=99, churnkit="9.0.0")
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(SchemaError, match=r"saved by churnkit 9.0.0.*Upgrade"):
        ck.Events.load(path, verify=False)


def test_a_store_of_the_unversioned_layout_loads_and_is_replaced(two_stores, tmp_path):
    a, b = two_stores
    path = a.save(tmp_path / "store")
    version = _version(path)
    for file in version.iterdir():  # rebuild the layout of earlier churnkits
        if file.name != "manifest.json":
            file.rename(path / file.name)
    (version / "manifest.json").unlink()
    version.rmdir()
    (path / "CURRENT").unlink()
    assert _same_store(ck.Events.load(path), a)
    b.save(path)
    assert not list(path.glob("*.npy")) and not (path / "events.json").exists()
    assert _same_store(ck.Events.load(path), b)


@POSIX
def test_store_files_follow_the_umask(two_stores, tmp_path):
    old = os.umask(0o022)
    try:
        path = two_stores[0].save(tmp_path / "store")
    finally:
        os.umask(old)
    version = _version(path)
    assert stat.S_IMODE(version.stat().st_mode) == 0o755
    for file in [path / "CURRENT", *version.iterdir()]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o644, file.name


_SAVER = textwrap.dedent(
    """
    import sys
    import churnkit as ck
    a = ck.Events.load(sys.argv[2], mmap=False)
    b = ck.Events.load(sys.argv[3], mmap=False)
    print("ready", flush=True)
    while True:
        a.save(sys.argv[1])
        b.save(sys.argv[1])
    """
)


def _kill_saves(two_stores, tmp_path, kills, seed):
    a, b = two_stores
    sources = [str(a.save(tmp_path / "a")), str(b.save(tmp_path / "b"))]
    path = a.save(tmp_path / "store")
    rng = random.Random(seed)
    seen = {"a": 0, "b": 0}
    for _ in range(kills):
        child = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(path), *sources],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 1.0))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        loaded = ck.Events.load(path)  # verified against the manifest
        if _same_store(loaded, a):
            seen["a"] += 1
        else:
            assert _same_store(loaded, b), "a killed save left a mixed store"
            seen["b"] += 1
    # leftovers of killed saves are cleaned by the next save
    a.save(path)
    assert sorted(p.name for p in path.iterdir()) == ["CURRENT", _version(path).name]
    return seen


@POSIX
def test_killed_saves_never_leave_a_mixed_store(two_stores, tmp_path):
    seen = _kill_saves(two_stores, tmp_path, kills=3, seed=0)
    assert sum(seen.values()) == 3


@POSIX
@pytest.mark.slow
def test_killed_saves_never_leave_a_mixed_store_many_times(two_stores, tmp_path):
    seen = _kill_saves(two_stores, tmp_path, kills=40, seed=1)
    assert sum(seen.values()) == 40
    assert seen["a"] and seen["b"]  # kills landed in both saves


_READER = textwrap.dedent(
    """
    import os, sys
    import churnkit as ck
    events = ck.Events.load(sys.argv[1])
    X = ck.make_cutoffs(events, at="2024-06-01")
    builder = ck.UsageFeatures(events, windows=("30D",)).fit(X)
    first = builder.transform(X)
    print("ready", flush=True)
    rounds = 0
    while not os.path.exists(sys.argv[2]) or rounds < 3:
        assert builder.transform(X).equals(first), "features changed under the reader"
        rounds += 1
    print("same", rounds, flush=True)
    """
)


@POSIX
def test_a_reader_process_keeps_scoring_while_another_resaves(two_stores, tmp_path):
    a, b = two_stores
    path = a.save(tmp_path / "store")
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(path), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "ready"
    for i in range(6):
        (b if i % 2 == 0 else a).save(path)
    stop.touch()
    out, err = reader.communicate(timeout=300)
    assert reader.returncode == 0, err  # no SIGBUS (-7), no error
    assert out.split()[0] == "same"


# ------------------------------------------------------------------ model files


def _model_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 1).astype(int)
    clf = ck.ChurnClassifier("logistic", calibration=None).fit(X, y)
    return ck.save(clf, tmp_path / "m.ckm", horizon="30D", metrics={"auc": 0.8})


def _rewrite(path, header, payload):
    from churnkit.persistence import MAGIC, _checksum

    body = json.dumps(header).encode()
    path.write_bytes(
        MAGIC
        + f"{len(body)} {_checksum(body, payload)}\n".encode()
        + body
        + b"\n"
        + payload
    )


def _parts(path):
    from churnkit.persistence import MAGIC

    data = path.read_bytes()[len(MAGIC) :]
    first, rest = data.split(b"\n", 1)
    size = int(first.split()[0])
    return json.loads(rest[:size]), rest[size + 1 :]


def test_model_checksum_covers_the_header(tmp_path):
    from churnkit.exceptions import ChurnkitError

    path = _model_file(tmp_path)
    assert ck.read_header(path)["horizon"] == "30D"
    path.write_bytes(
        path.read_bytes().replace(b'"horizon": "30D"', b'"horizon": "90D"')
    )
    with pytest.raises(ChurnkitError, match="checksum does not match"):
        ck.read_header(path)
    with pytest.raises(ChurnkitError, match="checksum does not match"):
        ck.load(path)


def test_model_file_of_a_newer_format_says_upgrade(tmp_path):
    from churnkit.exceptions import ChurnkitError

    path = _model_file(tmp_path)
    header, payload = _parts(path)
    header["format"] = 7
    header["versions"]["churnkit"] = "9.0.0"
    _rewrite(path, header, payload)
    with pytest.raises(ChurnkitError, match=r"saved by churnkit 9\.0\.0 .*Upgrade"):
        ck.load(path)


def test_model_from_a_newer_churnkit_that_cannot_be_rebuilt_says_upgrade(tmp_path):
    from churnkit.exceptions import ChurnkitError

    path = _model_file(tmp_path)
    header, _ = _parts(path)
    header["versions"]["churnkit"] = "9.0.0"
    # a class this churnkit does not have (protocol-0 GLOBAL opcode)
    payload = b"cchurnkit.features.usage\nUsageFeaturesV9\n."
    header["payload_bytes"] = len(payload)
    _rewrite(path, header, payload)
    with pytest.warns(ck.ChurnkitWarning, match="saved with churnkit 9.0.0"):
        with pytest.raises(ChurnkitError, match=r"saved by churnkit 9\.0\.0.*Upgrade"):
            ck.load(path)


@POSIX
@pytest.mark.parametrize(
    "umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)]
)
def test_model_files_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = _model_file(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
