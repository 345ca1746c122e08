"""State of the change-request editor: the form from the schema, live checks, a confirm step, submission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import param
from sqlalchemy.orm import Session

from obslab.access import ADMIN_ROLE
from obslab.catalog.browse import ObservationValues, observation_values
from obslab.catalog.changes.policy import Policy
from obslab.catalog.changes.submit import Edit, areas_needed, preview_change, submit_change
from obslab.catalog.changes.validation import MAX_RANK, ChangeCheck, Problem, label
from obslab.catalog.lookup import find_observation
from obslab.catalog.types import RevisionKind
from obslab.catalog.values import DATETIME_FORMAT
from obslab.dashboards.context import DashboardContext, default_context
from obslab.dashboards.state.base import DashboardState
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError

#: Menu text -> revision kind.
KINDS = {
    "Change parameters": RevisionKind.NORMAL.value,
    "Approve as is": RevisionKind.APPROVE_AS_IS.value,
    "Remove approval": RevisionKind.REMOVE_APPROVAL.value,
    "Split (clone)": RevisionKind.SPLIT.value,
}
STAGES = ("edit", "confirm", "done")


@dataclass(frozen=True)
class Field:
    """One input of the form: a scalar parameter, or one cell of a ranked table's row."""

    name: str
    rank: int
    label: str
    group: str
    choices: tuple[str, ...] | None
    current: str  # the stored value as the form shows it; "" when there is none
    editable: bool
    help: str

    @property
    def key(self) -> str:
        return label(self.name, self.rank)


@dataclass(frozen=True)
class FormGroup:
    """A section of the form: its fields, and for a ranked table the ranks shown (stored ones plus one spare)."""

    key: str
    label: str
    ranked: bool
    fields: tuple[Field, ...]
    ranks: tuple[int, ...] = ()


def shown(value: Any) -> str:
    """A stored value as text in the form; typing it back unchanged is no change."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    return str(value)


class EditorState(DashboardState):
    """Load an observation, edit values (each edit checked at once), review the diff and warnings, then submit."""

    obsid = param.String(default="", doc="The observation to change")
    kind = param.Selector(default=RevisionKind.NORMAL.value, objects=KINDS, label="Request")
    comment = param.String(default="", doc="Why the change is needed; every signer reads it")

    loaded = param.Integer(default=0, precedence=-1, doc="The obsid the form shows (0: none)")
    stage = param.Selector(default="edit", objects=list(STAGES), precedence=-1)
    problems = param.List(default=[], precedence=-1, doc="Errors then warnings of the current edits")
    revision = param.String(default="", precedence=-1, doc="The label of the submitted revision")

    def __init__(
        self,
        context: DashboardContext | None = None,
        *,
        now: Clock = utcnow,
        policy: Policy | None = None,
        **params: Any,
    ) -> None:
        context = context or default_context()
        self.policy = policy or context.catalog_policy
        super().__init__(context, now=now, **params)
        self.groups: list[FormGroup] = []
        self.summary: dict[str, Any] = {}
        self.edits: dict[tuple[str, int], str] = {}
        self.check: ChangeCheck | None = None
        self.areas: list[str] = []
        self._version = 0
        if self.obsid.strip():
            self.load()

    @property
    def may_submit(self) -> bool:
        """Whether the viewer may submit (the service decides; this only lets the page say so first)."""
        return not self.submit_refusal

    @property
    def submit_refusal(self) -> str:
        """Why the viewer may not submit, with the fix; empty when they may."""
        return self.refusal({*self.policy.rules.submitters, ADMIN_ROLE}, "submit change requests")

    # --- loading ----------------------------------------------------------------------------

    def load(self) -> bool:
        """Read the observation named by ``obsid`` into a fresh form; a bad or unknown obsid is refused."""
        text = self.obsid.strip()

        def read(session: Session) -> ObservationValues:
            if not text.isdigit():
                raise InvalidInputError("obsid", text, "a whole number, e.g. 30001")
            return observation_values(session, int(text))

        return self.run(read, write=False, then=self._loaded, refused=lambda _refusal: self._unloaded())

    def _unloaded(self) -> None:
        """No form: the obsid typed names no observation, so the last one's form (and edits) would not be its."""
        self.groups, self.summary, self.edits, self.check, self.areas = [], {}, {}, None, []
        self._version = 0
        self.revision = ""
        self.problems = []
        self.stage = "edit"
        self.loaded = 0

    def _loaded(self, observation: ObservationValues) -> None:
        self.summary = {
            "obsid": observation.obsid,
            "target": observation.target_name,
            "instrument": observation.instrument,
            "status": observation.status,
            "approved": observation.approved,
            "scheduled_at": observation.scheduled_at,
            "editable": observation.editable,
            "version": observation.version,
        }
        self._version = observation.version
        self.groups = self._form(observation.values)
        self.edits, self.check, self.areas = {}, None, []
        self.error = self.message = self.revision = ""
        self.problems = []
        self.stage = "edit"
        self.loaded = self.summary["obsid"]

    def _form(self, values: dict[tuple[str, int], Any]) -> list[FormGroup]:
        groups = []
        for group, rows in self.policy.schema.group_rows(values):
            if group.key == "other":  # values the schema does not describe are shown by the catalog, not edited
                continue
            ranks: tuple[int, ...] = ()
            if group.ranked:
                stored = [row["rank"] for row in rows]
                ranks = tuple(stored + ([max(stored, default=0) + 1] if len(stored) < MAX_RANK else []))
            fields = tuple(
                Field(
                    spec.name,
                    rank,
                    spec.label + (f" ({spec.unit})" if spec.unit else ""),
                    group.key,
                    spec.choices,
                    shown(values.get((spec.name, rank))),
                    spec.editable,
                    _help(spec),
                )
                for rank in (ranks or (0,))
                for spec in group.parameters
            )
            groups.append(FormGroup(group.key, group.label, group.ranked, fields, ranks))
        return groups

    def field(self, name: str, rank: int = 0) -> Field | None:
        return next((f for group in self.groups for f in group.fields if (f.name, f.rank) == (name, rank)), None)

    # --- editing ----------------------------------------------------------------------------

    def set_value(self, name: str, rank: int, text: str) -> None:
        """Record what was typed for one field (back to the stored text = no edit) and check the whole change."""
        found = self.field(name, rank)
        if found is None or not self.loaded:
            self.error = str(InvalidInputError("parameter", label(name, rank), "a field of the loaded form"))
            return
        if text.strip() == found.current.strip():
            self.edits.pop((name, rank), None)
        else:
            self.edits[name, rank] = text
        if self.stage != "edit":
            self.stage = "edit"
        self.refresh_check()

    @param.depends("kind", watch=True)
    def _kind_changed(self) -> None:
        if self.loaded:
            self.stage = "edit"
            self.refresh_check()

    def edit_list(self) -> list[Edit]:
        """The edits to send: only for a parameter change (the other kinds change no value)."""
        if self.kind != RevisionKind.NORMAL.value:
            return []
        return [(name, rank, text) for (name, rank), text in self.edits.items()]

    def refresh_check(self) -> None:
        """Check the current edits against the observation as it is now; nothing is written."""
        if not self.loaded:
            return

        def read(session: Session) -> tuple[ChangeCheck, list[str]]:
            observation = find_observation(session, self.loaded)
            check = preview_change(session, self.loaded, self.edit_list(), policy=self.policy, now=self.now)
            kind = RevisionKind(self.kind)
            return check, [area.label for area in areas_needed(observation, kind, check, self.policy)]

        self.run(read, write=False, then=self._checked, refused=lambda _refusal: self._unchecked())

    def _unchecked(self) -> None:
        # The check could not run (say, the observation is gone): the last check's problems are not these edits'.
        self.check, self.areas, self.problems = None, [], []

    def _checked(self, found: tuple[ChangeCheck, list[str]]) -> None:
        check, self.areas = found
        self.check = check
        self.problems = [_problem("error", p) for p in check.errors] + [_problem("warning", p) for p in check.warnings]

    # --- confirming and submitting ----------------------------------------------------------

    def review(self) -> bool:
        """Go to the confirm step when the request is complete and passes every check."""
        self.refresh_check()
        if self.check is None:
            return False
        if self.check.errors:
            count = len(self.check.errors)
            self.error = f"fix the {count} problem{'s' * (count != 1)} listed first; nothing was submitted"
            return False
        if self.kind == RevisionKind.NORMAL.value and not self.check.changes:
            self.error = "nothing to submit: every value equals the stored one"
            return False
        self.stage = "confirm"
        return True

    def back(self) -> None:
        self.stage = "edit"

    def diff(self) -> list[tuple[str, str, str]]:
        """(parameter, stored, requested) for every value the request changes, in schema order."""
        if self.check is None or self.kind != RevisionKind.NORMAL.value:
            return []
        return [(self._label(c.name, c.rank), shown(c.original), shown(c.requested)) for c in self.check.changes]

    def _label(self, name: str, rank: int) -> str:
        found = self.field(name, rank)
        text = found.label if found is not None else name
        return f"{text} [{rank}]" if rank else text

    def submit(self) -> bool:
        """Submit as the viewer, stating the version the form was loaded from; a refusal writes nothing and says why."""
        if self.stage != "confirm":
            self.error = "review the request first: submission follows the confirm step"
            return False

        def write(session: Session) -> str:
            revision, _check = submit_change(
                session,
                self.context.actor(session),
                self.loaded,
                seen_version=self._version,
                kind=self.kind,
                edits=self.edit_list(),
                comment=self.comment,
                policy=self.policy,
                now=self.now,
            )
            return revision.label

        return self.run(write, then=self._submitted)

    def _submitted(self, label_text: str) -> None:
        waiting = ", ".join(self.areas) or "verification"
        self.revision = label_text
        self.message = f"submitted {label_text}; waiting for {waiting}"
        self.stage = "done"


def _problem(severity: str, problem: Problem) -> dict[str, Any]:
    return {
        "severity": severity,
        "name": problem.parameter,
        "key": label(problem.parameter, problem.rank),
        "message": problem.message,
    }


def _help(spec: Any) -> str:
    if not spec.editable:  # nothing to type: the format would only crowd the field
        return "display only (UTC)" if spec.type == "datetime" else "display only"
    parts = []
    if spec.choices:
        parts.append("one of " + ", ".join(spec.choices))
    elif spec.type == "datetime":
        parts.append("UTC, YYYY-MM-DDTHH:MM:SS")
    elif spec.type in ("float", "int"):
        bounds = [
            f"≥ {spec.minimum:g}" if spec.minimum is not None else "",
            f"≤ {spec.maximum:g}" if spec.maximum is not None else "",
        ]
        parts.append(("a whole number" if spec.type == "int" else "a number") + "".join(f", {b}" for b in bounds if b))
    return "; ".join(parts)
