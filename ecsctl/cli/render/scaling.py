"""Renderers of a scaling what-if: text lines, a chart in the terminal, a PNG/SVG plot."""

from __future__ import annotations

from datetime import datetime, timezone

from ecsctl.errors import InputError, UsageError

BARS = " ▁▂▃▄▅▆▇█"


def render_text(sim) -> str:
    tl = sim.timeline
    lines = [f"# {sim.mode} loop: service/{sim.cluster}/{sim.service}, {tl.minutes} minutes from "
             f"{_iso(tl.start)}; {len(tl.activities)} scaling activities"]
    for act, running, value in zip(tl.activities, tl.running_at, tl.metric_at):
        metric = "" if value is None or not tl.metric_name else f"  {_short(tl.metric_name)} {value:.1f}"
        status = "" if act.status_code == "Successful" else f"  [{act.status_code}]"
        lines.append(f"{_iso(act.minute)}  {act.previous:>3} -> {act.desired_count:<3} running {running:<3}{metric}  "
                     f"{act.description}  cause: {act.cause}{status}")
    return "\n".join(lines) + "\n"


def render_chart(sim, width: int = 72) -> str:
    """A small chart for a terminal: the metric and the desired/running counts, as bars."""
    tl = sim.timeline
    if not tl.desired:
        return ""
    cols = max(8, min(width, tl.minutes))
    rows = []
    if tl.metric is not None and tl.metric_name:
        values = _resample([v for v in tl.metric], cols)
        top = max([v for v in values if v is not None] + [tl.target or 0, 1e-9])
        target = f", target {tl.target:g}" if tl.target is not None else ""
        rows.append(f"{_short(tl.metric_name)} (max {top:.1f}{target})")
        rows.append(_bars(values, top))
    for label, series in (("desired", tl.desired), ("running", tl.running)):
        values = _resample(series, cols)
        top = max([v for v in values if v is not None] + [1])
        rows.append(f"{label} count (max {top:.0f})")
        rows.append(_bars(values, top))
    rows.append(f"{_iso(tl.start)}{' ' * max(1, cols - 34)}{_iso(tl.end)}")
    return "\n".join(rows) + "\n"


def _resample(values: list, cols: int) -> list:
    n = len(values)
    out = []
    for c in range(cols):
        chunk = [v for v in values[c * n // cols:max(c * n // cols + 1, (c + 1) * n // cols)] if v is not None]
        out.append(max(chunk) if chunk else None)
    return out


def _bars(values: list, top: float) -> str:
    return "".join(" " if v is None else BARS[min(8, max(1 if v > 0 else 0, round(v / top * 8)))] for v in values)


def _short(metric: str) -> str:
    return {"ECSServiceAverageCPUUtilization": "CPU %", "ECSServiceAverageMemoryUtilization": "memory %",
            "ALBRequestCountPerTarget": "requests/target/min"}.get(metric, metric)


def _iso(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def write_plot(sim, path: str) -> None:
    """Metric, target, desired and running count over time, as PNG or SVG (matplotlib, the plot extra)."""
    if not path.lower().endswith((".png", ".svg")):
        raise UsageError(f"--plot {path}: the file must end in .png or .svg")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'ecsctl[plot]'") from None
    tl = sim.timeline
    times = [datetime.fromtimestamp((tl.start + i) * 60, timezone.utc) for i in range(tl.minutes)]
    fig, metric_ax = plt.subplots(figsize=(10, 4.2), dpi=100)
    count_ax = metric_ax.twinx()
    if tl.metric is not None and tl.metric_name:
        metric_ax.plot(times, [float("nan") if v is None else v for v in tl.metric], color="#4c72b0", linewidth=1,
                       label=_short(tl.metric_name))
        if tl.target is not None:
            metric_ax.axhline(tl.target, color="#4c72b0", linestyle="--", linewidth=0.8, label=f"target {tl.target:g}")
    metric_ax.set_ylabel(_short(tl.metric_name) if tl.metric_name else "metric")
    count_ax.step(times, tl.desired, where="post", color="#dd8452", linewidth=1.6, label="desired count")
    count_ax.step(times, tl.running, where="post", color="#55a868", linewidth=1.2, label="running count")
    count_ax.set_ylabel("tasks")
    count_ax.set_ylim(bottom=0)
    if tl.metric_name and tl.metric_name.endswith("Utilization"):
        metric_ax.set_ylim(0, 105)  # a percentage: the whole scale shows how far from the target
    else:
        metric_ax.set_ylim(bottom=0)
    handles = metric_ax.get_legend_handles_labels()[0] + count_ax.get_legend_handles_labels()[0]
    metric_ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8, frameon=False)
    metric_ax.set_title(f"service/{sim.cluster}/{sim.service}: {sim.mode}-loop what-if", fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    try:
        fig.savefig(path, metadata={"Software": None} if path.lower().endswith(".png") else {"Date": None})
    except OSError as exc:
        raise InputError(f"--plot {path}: cannot write: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
