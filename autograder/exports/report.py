"""The class report: one self-contained HTML file (plots embedded as PNG data
URIs, no outside resources) for the course staff.

It shows the score distribution, each test cell's pass rate, the most common
misconceptions the verifier named, run time per submission, the statuses
(timeouts, memory, crashes...), every bar named and valued, the flagged
submissions with their reasons, and a table of every student linking to
their feedback pages (`COURSE/feedback/`, relative to `COURSE/reports/ASSIGNMENT/`).
"""

from __future__ import annotations

import base64
import io
import statistics
from collections import Counter

from autograder.exports.classroom import MISSING, misconceptions
from autograder.pipeline.files import replace_file
from autograder.exports.render import render

__all__ = ["PLOT_COLOUR", "report_html", "write_report"]

PLOT_COLOUR = "#1f77b4"  # every bar and histogram; the rendering test looks for it
_TOP_MISCONCEPTIONS = 12


def report_html(classroom):
    """The class report's HTML.

    Args:
        classroom: an `autograder.exports.classroom.ClassResults`.

    Returns:
        The HTML text (self-contained).
    """
    submitted = classroom.submitted()
    scores = [result.score for result in submitted]
    mistakes = sum((misconceptions(result) for result in submitted), Counter())
    flagged = [result for result in submitted if result.flags]
    summary = {"students": len(classroom.results), "submitted": len(submitted),
               "missing": len(classroom.results) - len(submitted), "max_score": classroom.max_score,
               "mean": statistics.fmean(scores) if scores else 0.0,
               "median": statistics.median(scores) if scores else 0.0,
               "full_marks": sum(score >= classroom.max_score for score in scores)}
    plots = [("Score distribution", _score_plot(scores, classroom.max_score)),
             ("Pass rate per test cell", _pass_rate_plot(classroom, submitted)),
             ("Most common misconceptions", _misconception_plot(mistakes)),
             ("Run time per submission", _time_plot([result.seconds for result in submitted])),
             ("Statuses", _status_plot(Counter(result.status for result in classroom.results.values())))]
    notebooks = [template.name[:-len(".ipynb")] for template in classroom.templates]
    students = [(result, [(name, f"../../feedback/{result.student}/{classroom.assignment}/{name}.html")
                          for name in notebooks if result.notebooks.get(name) not in (None, "missing")])
                for result in classroom.results.values()]
    return render("report.html.j2", assignment=classroom.assignment, summary=summary, plots=plots,
                  flagged=flagged, mistakes=mistakes.most_common(), students=students,
                  stopped=[r for r in classroom.results.values() if r.status not in ("graded", MISSING)])


def write_report(classroom, path):
    """Writes `report_html(classroom)` to `path` (atomically).

    Returns:
        The path written.
    """
    return replace_file(path, report_html(classroom))


def _figure(width=6.0, height=3.2, categories=None):
    """A figure with whole-number axes; `categories` ("x" or "y") is the axis that names bars: it gets every
    label (a tick per bar), never a locator's selection."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(width, height), dpi=100)
    axes.spines[["top", "right"]].set_visible(False)
    for name, axis in (("x", axes.xaxis), ("y", axes.yaxis)):  # counts are whole numbers
        if name != categories:
            axis.set_major_locator(MaxNLocator(integer=True))
    return figure, axes


def _named_bars(axes, names, values, *, horizontal, fmt):
    """One bar per name, every name on its axis and every value at its bar's end."""
    positions = list(range(len(names)))
    bars = (axes.barh if horizontal else axes.bar)(positions, values, color=PLOT_COLOUR)
    (axes.set_yticks if horizontal else axes.set_xticks)(positions, labels=names, fontsize=8)
    axes.bar_label(bars, labels=[fmt(value) for value in values], fontsize=7, padding=2)


def _counted_hist(axes, values, **bins):
    """A histogram whose every non-empty bar carries its count (the bins' edges are on the axis)."""
    counts, _, bars = axes.hist(values, color=PLOT_COLOUR, edgecolor="white", **bins)
    axes.bar_label(bars, labels=[f"{count:g}" if count else "" for count in counts], fontsize=7, padding=2)


def _png(figure):
    import matplotlib.pyplot as plt

    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _score_plot(scores, max_score):
    figure, axes = _figure()
    bins = max(5, min(20, int(max_score) or 5))
    _counted_hist(axes, scores, bins=bins, range=(0, max_score or 1))
    axes.set_xlabel(f"verified score (of {max_score:g})")
    axes.set_ylabel("submissions")
    return _png(figure)


def _pass_rate_plot(classroom, submitted):
    cells = classroom.graded_cells()
    figure, axes = _figure(width=7.0, height=max(2.5, 0.28 * len(cells) + 1), categories="y")
    names = [f"{notebook[:2]} {grade_id}" for notebook, grade_id, _ in cells]
    rates = []
    for notebook, grade_id, points in cells:
        full = [any(c.notebook == notebook and c.grade_id == grade_id and c.score >= points for c in r.cells)
                for r in submitted]
        rates.append(100.0 * sum(full) / len(full) if full else 0.0)
    _named_bars(axes, names[::-1], rates[::-1], horizontal=True, fmt=lambda rate: f"{rate:.0f}%")
    axes.set_xlim(0, 112)  # room for the values beside the longest bars
    axes.set_xticks(range(0, 101, 20))
    axes.set_xlabel("% of submissions with full marks")
    return _png(figure)


def _misconception_plot(mistakes):
    common = mistakes.most_common(_TOP_MISCONCEPTIONS)
    figure, axes = _figure(width=7.0, height=max(2.5, 0.3 * len(common) + 1), categories="y")
    if common:
        _named_bars(axes, [name for name, _ in common][::-1], [count for _, count in common][::-1], horizontal=True,
                    fmt=str)
    else:
        axes.text(0.5, 0.5, "no misconception named", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("test cells naming it")
    return _png(figure)


def _time_plot(seconds):
    figure, axes = _figure()
    _counted_hist(axes, seconds, bins=min(20, max(5, len(seconds) // 2)))
    axes.set_xlabel("seconds in the sandbox")
    axes.set_ylabel("submissions")
    return _png(figure)


def _status_plot(statuses):
    figure, axes = _figure(categories="x")
    names = sorted(statuses, key=lambda name: -statuses[name])
    _named_bars(axes, names, [statuses[name] for name in names], horizontal=False, fmt=str)
    axes.set_ylabel("students")
    return _png(figure)
