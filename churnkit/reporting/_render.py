"""Render the report's sections to one self-contained HTML file with jinja2.

The templates ship in ``churnkit/reporting/templates``; autoescaping is on, so
text from the data (customer ids, reasons, attribute values) cannot inject
markup. Charts are trusted SVG from :mod:`churnkit.reporting._charts`.
"""

from __future__ import annotations

from pathlib import Path

from churnkit._version import VERSION


def environment():
    """The jinja2 environment of the report templates."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("churnkit.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(sections: dict) -> str:
    """The report's HTML text."""
    template = environment().get_template("report.html.j2")
    return template.render(s=sections, version=VERSION)


def write(sections: dict, path) -> Path:
    """Render the report to ``path`` (parent folders created) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(sections), encoding="utf-8")
    return path
