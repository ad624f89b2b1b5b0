"""Rule changes marked on the trend charts, so a drop the rules caused is not read as a regression.

The published `rule_changes` log (pipelines/rules.py) names the first
snapshot scored under new rules; each trend chart whose x axis holds that
snapshot gets a dashed vertical line there and a label saying what changed.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard import data, ui

COLOUR = "#7f7f7f"


def mark_rule_changes(fig: go.Figure, src: data.Source, labels) -> None:
    """Mark each rule change whose snapshot is one of ``labels`` (the chart's x categories, YYYY-MM-DD)."""
    shown = {str(v) for v in labels}
    changes = data.rule_changes(src)
    for snap, summary in zip(ui.snapshot_labels(changes["snapshot"]), changes["summary"], strict=True):
        if snap not in shown:
            continue  # the chart does not reach that snapshot (a team filter, a service not there yet)
        fig.add_vline(x=snap, line_dash="dash", line_color=COLOUR, line_width=1.5,
                      row="all" if _faceted(fig) else None, col="all" if _faceted(fig) else None)
        fig.add_annotation(
            x=snap, xref="x", y=1, yref="paper", yanchor="top", xanchor="left", text=ui.chart_text(summary),
            showarrow=False, font={"size": 11, "color": COLOUR}, bgcolor="rgba(255,255,255,0.8)", name="rule change",
        )


def _faceted(fig: go.Figure) -> bool:
    return getattr(fig, "_grid_ref", None) is not None
