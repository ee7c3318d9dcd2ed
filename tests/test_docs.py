"""The documentation site builds with warnings as errors, and its code runs.

``test_docs_build`` runs ``mkdocs build --strict`` (mkdocs-material with
mkdocstrings; no network) and is skipped when mkdocs is not installed.
``test_docs_snippets`` runs the Python blocks of each page, in order, as one
script; it fits models on synthetic data, so it is marked slow
(``pytest -m slow tests/test_docs.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
# pages written by other people (docs/kpis.md) are not ours to run here
PAGES = sorted(
    p
    for p in DOCS.rglob("*.md")
    if p.name != "kpis.md" and not p.relative_to(DOCS).parts[0].startswith("_")
)


def _env():
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def test_docs_build(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"mkdocs build --strict failed ({result.returncode}):\n{result.stderr}"
        f"\n{result.stdout}"
    )
    assert (tmp_path / "site" / "api" / "events" / "index.html").exists()


def _snippets(page: Path) -> str:
    return "\n".join(FENCE.findall(page.read_text()))


@pytest.mark.slow
@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if _snippets(p)],
    ids=lambda p: str(p.relative_to(DOCS)),
)
def test_docs_snippets(page, tmp_path):
    script = tmp_path / "snippets.py"
    script.write_text(_snippets(page))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"the code of {page.relative_to(DOCS)} failed:\n{result.stderr[-4000:]}"
    )
