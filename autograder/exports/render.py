"""The Jinja2 environment of the HTML exports: templates from this package,
every value HTML-escaped (student code and ids are untrusted text)."""

from __future__ import annotations

from functools import lru_cache

from cnnkit.checks.report import format_points

__all__ = ["points", "render"]


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    environment = Environment(loader=PackageLoader("autograder.exports", "templates"),
                              autoescape=select_autoescape(default=True, default_for_string=True),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["points"] = points
    return environment


def points(value):
    """A score as people write it: at most two decimals, no trailing zeros (`9.83`, `2`)."""
    return format_points(value)


def render(template, **values):
    """Renders one of the package's templates.

    Args:
        template: the template's file name, e.g. `"feedback.html.j2"`.
        **values: the template's variables.

    Returns:
        The HTML text.
    """
    return _environment().get_template(template).render(**values)
