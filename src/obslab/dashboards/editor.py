"""The change-request editor: a thin Panel view over EditorState."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param

from obslab.catalog.types import RevisionKind
from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.registry import link_to
from obslab.dashboards.shell import error_alert, message_line, shell
from obslab.dashboards.state.editor import EditorState, Field, FormGroup
from obslab.dashboards.widgets import BADGE_CSS, badge, guarded, html_table

#: A field the current edits make wrong gets a red border (css_classes land on the widget's host element).
FIELD_CSS = ":host(.obslab-field-error) .bk-input { border: 2px solid #cf222e; background: #fff5f5; }"
PROBLEM_CSS = """
.obslab-problems { font-size: 13px; margin: 2px 0; }
.obslab-problems li.error { color: #cf222e; }
.obslab-problems li.warning { color: #9a6700; }
"""
NORMAL = RevisionKind.NORMAL.value


class ChangeEditor(PageViewer):
    """Obsid and kind on top; the parameters as a form, grouped as the schema groups them; review, then submit."""

    state = param.ClassSelector(class_=EditorState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self._inputs: dict[tuple[str, int], pn.widgets.Widget] = {}
        self.form = pn.Column(sizing_mode="stretch_width", css_classes=["obslab-editor-form"])
        # onlychanged=False: loading the same obsid again (after a submission) must rebuild the form too.
        self.state.param.watch(self._rebuild, "loaded", onlychanged=False)
        self.state.param.watch(self._mark_fields, "problems")
        self._rebuild()

    # --- the form ---------------------------------------------------------------------------

    def _rebuild(self, *_event: Any) -> None:
        s = self.state
        self._inputs = {}
        if not s.loaded:
            self.form.objects = [pn.pane.Markdown("*Type an obsid and press Load.*")]
            return
        self.form.objects = [self._group(group) for group in s.groups]

    def _group(self, group: FormGroup) -> pn.Card:
        if group.ranked:
            body: Any = pn.Column(
                *(
                    pn.Row(
                        pn.pane.Markdown(f"**{rank}**", width=24),
                        *(self._input(f) for f in group.fields if f.rank == rank),
                    )
                    for rank in group.ranks
                )
            )
        else:
            body = pn.FlexBox(*(self._input(f) for f in group.fields))
        names = {f.name for f in group.fields}
        problems = pn.pane.HTML(
            pn.bind(_problem_list, self.state.param.problems, names),
            stylesheets=[PROBLEM_CSS],
            sizing_mode="stretch_width",
        )
        has_values = any(f.current for f in group.fields)
        return pn.Card(
            body,
            problems,
            title=group.label,
            collapsed=group.ranked and not has_values,
            sizing_mode="stretch_width",
            css_classes=[f"obslab-group-{group.key}"],
        )

    def _input(self, field: Field) -> pn.widgets.Widget:
        editable = field.editable and bool(self.state.summary.get("editable"))
        common = dict(
            label=field.label,
            disabled=not editable,
            width=225,  # wide enough for the longest hint ("UTC, YYYY-MM-DDTHH:MM:SS"): five to a row at 1400 px
            stylesheets=[FIELD_CSS],
            css_classes=["obslab-field", f"obslab-field-{field.name}-{field.rank}"],
        )
        if field.choices is not None:
            options = ["", *field.choices] + (
                [field.current] if field.current and field.current not in field.choices else []
            )
            widget: pn.widgets.Widget = pn.widgets.Select(options=options, value=field.current, **common)
        else:
            widget = pn.widgets.TextInput(
                value=field.current, placeholder=field.help, description=field.help or None, **common
            )
        widget.param.watch(lambda event, f=field: self.state.set_value(f.name, f.rank, event.new or ""), "value")
        self._inputs[field.name, field.rank] = widget
        return widget

    def _mark_fields(self, event: param.parameterized.Event) -> None:
        wrong = {problem["key"] for problem in event.new if problem["severity"] == "error"}
        for (name, rank), widget in self._inputs.items():
            key = f"{name}[{rank}]" if rank else name
            base = ["obslab-field", f"obslab-field-{name}-{rank}"]
            wanted = base + (["obslab-field-error"] if key in wrong else [])
            if widget.css_classes != wanted:
                widget.css_classes = wanted

    # --- the other pieces -------------------------------------------------------------------

    def _summary(self, loaded: int, _stage: str) -> str:
        s = self.state
        if not loaded:
            return ""
        info = s.summary
        status = (
            badge(info["status"]) + " " + (badge("approved") if info["approved"] else badge("pending", "not approved"))
        )
        when = f" · scheduled {info['scheduled_at']:%Y-%m-%d %H:%M} UTC" if info["scheduled_at"] else ""
        text = (
            f"<h3>{info['obsid']} · {html.escape(info['target'])} · {html.escape(info['instrument'])}</h3>"
            f"<p>{status}{html.escape(when)}</p>"
        )
        if not info["editable"]:
            text += (
                f"<p class='obslab-editor-locked'>This observation is {html.escape(info['status'])}; "
                "it cannot be changed.</p>"
            )
        if not s.may_submit:
            text += (
                "<p class='obslab-editor-no-role'>You hold no role that may submit change requests: "
                "you can try a change and "
                "see its checks, but a submission will be refused.</p>"
            )
        return text

    def _confirm(self, stage: str, _problems: list[dict[str, Any]]) -> Any:
        s = self.state
        if stage != "confirm":
            return None
        kind = next((text for text, value in s.param.kind.objects.items() if value == s.kind), s.kind)
        parts = [f"<h3>Confirm: {html.escape(kind)} on {s.loaded}</h3>"]
        rows = s.diff()
        if rows:
            parts.append(html_table(("Parameter", "Now", "Requested"), rows))
        warnings = [p for p in s.problems if p["severity"] == "warning"]
        if warnings:
            parts.append("<p><b>Please note:</b></p>" + _problem_list(warnings, None))
        areas = ", ".join(s.areas)
        parts.append(
            f"<p><b>Sign-off needed from:</b> {html.escape(areas) + ', then ' if areas else ''}verification</p>"
        )
        parts.append(f"<p><b>Comment:</b> {html.escape(s.comment) or '—'}</p>")
        back = pn.widgets.Button(label="Back to the form", css_classes=["obslab-editor-back"])
        back.on_click(lambda _event: s.back())
        submit = pn.widgets.Button(label="Submit", color="primary", css_classes=["obslab-editor-submit"])
        submit.on_click(lambda _event: s.submit())
        submit = guarded(submit, s.submit_refusal)
        return pn.Column(
            pn.pane.HTML(
                "".join(parts),
                stylesheets=[BADGE_CSS, PROBLEM_CSS],
                sizing_mode="stretch_width",
                css_classes=["obslab-editor-confirm"],
            ),
            pn.Row(back, submit),
            sizing_mode="stretch_width",
        )

    def _done(self, stage: str, revision: str) -> str:
        if stage != "done":
            return ""
        board = link_to("signoff")
        where = f' <a href="{html.escape(board)}">Open the sign-off board</a>' if board else ""
        return (
            f"<p class='obslab-editor-done'>Revision <b>{html.escape(revision)}</b> "
            f"is on the sign-off board.{where}</p>"
        )

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        obsid = pn.widgets.TextInput.from_param(s.param.obsid, placeholder="e.g. 30001", width=140)
        load = pn.widgets.Button(label="Load", css_classes=["obslab-editor-load"], align="end")
        load.on_click(lambda _event: s.load())
        kind = pn.widgets.Select.from_param(s.param.kind, width=180)
        comment = pn.widgets.TextAreaInput.from_param(
            s.param.comment, height=70, sizing_mode="stretch_width", placeholder="Why this change is needed"
        )
        review = pn.widgets.Button(label="Review the request", color="primary", css_classes=["obslab-editor-review"])
        review.on_click(lambda _event: s.review())
        editing = pn.bind(lambda stage, loaded: stage == "edit" and bool(loaded), s.param.stage, s.param.loaded)
        form = pn.Column(
            self.form,
            # Before a load it says how to start; after one, it is the form of a parameter change being edited.
            visible=pn.bind(
                lambda kind, edit, loaded: not loaded or (kind == NORMAL and edit),
                s.param.kind,
                editing,
                s.param.loaded,
            ),
            sizing_mode="stretch_width",
        )
        checks = pn.pane.HTML(
            pn.bind(_problem_summary, s.param.problems),
            stylesheets=[PROBLEM_CSS],
            sizing_mode="stretch_width",
            css_classes=["obslab-editor-problems"],
        )
        body = pn.Column(
            "### Change request",
            pn.Row(obsid, load, kind),
            pn.pane.HTML(
                pn.bind(self._summary, s.param.loaded, s.param.stage),
                stylesheets=[BADGE_CSS],
                sizing_mode="stretch_width",
                css_classes=["obslab-editor-summary"],
            ),
            error_alert(s),
            message_line(s),
            checks,
            form,
            pn.Column(comment, review, visible=editing, sizing_mode="stretch_width"),
            pn.Column(pn.bind(self._confirm, s.param.stage, s.param.problems), sizing_mode="stretch_width"),
            pn.pane.HTML(pn.bind(self._done, s.param.stage, s.param.revision), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        return shell(s.context, "change", body)


def _problem_list(problems: list[dict[str, Any]], names: set[str] | None) -> str:
    """The problems (of the given parameters only, when ``names`` is set) as an escaped list."""
    chosen = [p for p in problems if names is None or p["name"] in names]
    if not chosen:
        return ""
    items = "".join(f"<li class='{p['severity']}'>{html.escape(p['message'])}</li>" for p in chosen)
    return f"<ul class='obslab-problems'>{items}</ul>"


def _problem_summary(problems: list[dict[str, Any]]) -> str:
    errors = sum(p["severity"] == "error" for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return ""
    head = f"<b>{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}</b>"
    return head + _problem_list(problems, None)
