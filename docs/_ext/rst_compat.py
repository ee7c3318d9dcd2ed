"""Griffe extension: render the reST bits of churnkit's numpydoc docstrings.

The docstrings follow numpydoc, which borrows a few reStructuredText
constructs that Markdown shows verbatim. Before mkdocstrings renders a
docstring, this rewrites them (in the rendered copy only; the source is not
touched):

- roles such as ``:class:`~churnkit.Events``` become inline code (`Events`);
- ``.. warning::`` / ``.. note::`` directives become admonitions;
- a paragraph ending in ``::`` (a literal block follows) ends in ``:``;
- simple tables (``====  ====`` borders) become Markdown tables.

Loaded by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options
.extensions``); it needs nothing beyond griffe, which mkdocstrings brings.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|ref):`([^`]+)`")
DIRECTIVE = re.compile(r"^(\s*)\.\. (warning|note|seealso|caution|danger)::\s*(.*)$")
BORDER = re.compile(r"^(\s*)=+( +=+)+\s*$")


def _role(match: re.Match) -> str:
    target = match.group(1)
    label = re.match(r"^(.*?)\s*<(.+)>$", target)  # :ref:`text <target>`
    if label:
        target = label.group(1)
    elif target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"``{target}``"


def _cell(line: str, start: int, end: int | None) -> str:
    return line[start:end].strip() if len(line) > start else ""


def _table(lines: list[str]) -> list[str]:
    """An reST simple table (its lines, borders included) as a Markdown table."""
    border = lines[0]
    starts = [m.start() for m in re.finditer(r"=+", border)]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    rows: list[list[str]] = []
    header = None
    for line in lines[1:]:
        if BORDER.match(line):
            if header is None and rows and line is not lines[-1]:  # separator
                header, rows = rows, []
            continue
        if not line.strip():
            continue
        cells = [_cell(line, a, b) for a, b in bounds]
        if rows and not cells[0]:  # continuation of the previous row
            rows[-1] = [
                f"{old} {new}".strip() for old, new in zip(rows[-1], cells, strict=True)
            ]
        else:
            rows.append(cells)
    head = header[0] if header else [" "] * len(bounds)
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(bounds)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def convert(text: str) -> str:
    """The Markdown rendering of a numpydoc docstring's reST constructs."""
    text = ROLE.sub(_role, text)
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = DIRECTIVE.match(line)
        if BORDER.match(line):
            # the closing border is the first later one followed by a blank line
            j = i + 1
            while j < len(lines) and not (
                BORDER.match(lines[j])
                and (j + 1 == len(lines) or not lines[j + 1].strip())
            ):
                j += 1
            if j < len(lines):
                out += _table(lines[i : j + 1])
                i = j + 1
                continue
        if directive:
            indent, kind, rest = directive.groups()
            kind = {"seealso": "note", "caution": "warning"}.get(kind, kind)
            out.append(f"{indent}!!! {kind}")
            if rest:
                out.append(f"{indent}    {rest}")
            i += 1
            while i < len(lines) and (
                not lines[i].strip() or lines[i][: len(indent) + 1].isspace()
            ):
                body = lines[i].strip()
                out.append(f"{indent}    {body}" if body else "")
                i += 1
            continue
        if line.rstrip().endswith("::") and not line.strip() == "::":
            line = line.rstrip()[:-1]
        out.append(line)
        i += 1
    return "\n".join(out)


class RstCompat(griffe.Extension):
    """Rewrite every docstring with :func:`convert` once it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
