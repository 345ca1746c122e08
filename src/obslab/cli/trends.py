"""``obslab trends``: a metric over time as you may see it, with its alarms and the configuration changes in range."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from obslab.cli._app import App, actor, emit_json, json_option, night_date, reports_errors
from obslab.formatting import utc


@click.group("trends")
def trends() -> None:
    """Pipeline metrics (seeing, Strehl, FWHM, ...) over time, with alarms and configuration changes."""


def _value(value: float) -> str:
    return f"{value:.4g}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@trends.command("show")
@click.argument("metric")
@click.option("--since", callback=night_date, help="The first night, YYYYMMDD (the local date it began).")
@click.option("--until", callback=night_date, help="The last night, YYYYMMDD.")
@click.option("--instrument", default="", help="Only exposures taken with this instrument (e.g. ROBO-CAM).")
@click.option("--filter", "filter_name", default="", help="Only exposures in this filter (Sg, Sr, Si, Sz, lp600, c).")
@click.option("--mode", "camera_mode", default="", help="Only exposures in this camera mode.")
@click.option("--per-night", is_flag=True, help="Each night's median and count instead of every point.")
@json_option("Print JSON: points (or nights, with --per-night), alarms and configuration markers.")
@click.pass_obj
@reports_errors
def trends_show(
    app: App,
    metric: str,
    since: date | None,
    until: date | None,
    instrument: str,
    filter_name: str,
    camera_mode: str,
    per_night: bool,
    as_json: bool,
) -> None:
    """METRIC's values in time order on the exposures and nights you may see, alarmed ones marked, with the
    instrument configuration changes between the first and the last point."""
    from obslab.observing.trends import config_markers, metric_series

    with app.sessions() as session:
        series = metric_series(
            session,
            actor(app, session),
            metric,
            since=since,
            until=until,
            instrument=instrument,
            filter_name=filter_name,
            camera_mode=camera_mode,
        )
        span = series.span
        markers = config_markers(session, series.instruments, *span) if span is not None else []
    if as_json:
        found: dict[str, Any] = series.as_dict() | {"markers": [m.as_dict() for m in markers]}
        if per_night:
            del found["points"]
        emit_json(found)
        return
    unit = f" ({series.unit})" if series.unit else ""
    click.echo(f"{metric}{unit}: {_count(len(series.points), 'point')} on {_count(len(series.nights), 'night')}")
    if per_night:
        for summary in series.nights:
            alarmed = f"  {summary.alarmed} alarmed" if summary.alarmed else ""
            click.echo(
                f"{summary.night:%Y%m%d}  median {_value(summary.median)}  {_count(summary.count, 'point')}{alarmed}"
            )
    else:
        for point in series.points:
            where = point.exposure or "(the night's own)"
            scope = "/".join(part for part in (point.instrument, point.filter_name, point.camera_mode) if part)
            alarm = f"  ALARM {', '.join(point.alarm_rules)}" if point.alarmed else ""
            click.echo(
                f"{utc(point.at)}  {point.night:%Y%m%d}  {_value(point.value)}  {where}"
                f"{'  ' + scope if scope else ''}{alarm}"
            )
    for marker in markers:
        click.echo(f"configuration change {utc(marker.valid_from)}  {marker.label}: {marker.what}")
    opened = sum(1 for alarm in series.alarms if alarm.acknowledged_at is None)
    if series.alarms:
        click.echo(f"{_count(len(series.alarms), 'alarm')} ({opened} open): obslab alarms list")
