"""Demo change requests in every sign-off state, with their values and sign-offs, written after their observations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy import select

from obslab.catalog.models import Revision, RevisionKind, RevisionValue, SignOff, SignOffState
from obslab.demo.changes import AREAS, Edit, make_changes, required_areas, revision_notes
from obslab.demo.context import DemoContext
from obslab.demo.observations import PlannedObservation
from obslab.demo.people import ACIS_TEAM, ARCOPS, HRC_TEAM, USINT

#: One revision of a story: (kind, change key, sign-off state to leave it in).
Step = tuple[str, str | None, str]
#: Which observations a story fits, and its revisions in submission order.
Story = tuple[str, tuple[Step, ...]]

ASIS: Step = ("asis", None, "verified")
#: Every story once, so every sign-off situation exists whatever the seed.
REQUIRED_STORIES: tuple[Story, ...] = (
    ("any", (("norm", "offsets", "verified"),)),
    ("any", (ASIS,)),
    ("any", (("norm", "roll", "verified"), ASIS)),
    ("any", (("norm", "window_markup", "awaiting"),)),
    ("acis_te", (("norm", "frame_time", "partial"),)),
    ("any", (("norm", "roll", "edits_done"),)),
    ("any", (("norm", "comments", "discarded"),)),
    ("any", (ASIS, ("remove", None, "verified"))),
    ("any", (("clone", "split", "awaiting"),)),
    ("any", (("clone", "split", "verified"),)),
    ("any", (("norm", "window", "superseded"), ("norm", "offsets", "awaiting"))),
    ("generated", (("norm", "coords_large", "awaiting"),)),
    ("generated", (("norm", "targname", "verified"), ASIS)),
    ("acis_s_imaging", (("norm", "grating", "partial"),)),
    ("acis_i", (("norm", "instrument", "edits_done"),)),
    ("hrc", (("norm", "hrc_si_mode", "partial"),)),
    ("acis", (("norm", "eventfilter", "discarded"),)),
)
#: Stories drawn at random (with these weights) until enough observations carry history.
COMMON_STORIES: tuple[tuple[int, Story], ...] = (
    (12, ("any", (ASIS,))),
    (2, ("any", (("norm", "offsets", "verified"),))),
    (2, ("any", (("norm", "roll", "verified"), ASIS))),
    (2, ("any", (("norm", "window", "awaiting"),))),
    (1, ("acis_te", (("norm", "frame_time", "partial"),))),
    (2, ("acis", (("norm", "bep_pack", "verified"), ASIS))),
    (1, ("any", (("norm", "remarks", "edits_done"),))),
    (1, ("generated", (("norm", "coords_small", "verified"),))),
    (1, ("any", (("norm", "dither", "discarded"),))),
    (1, ("generated", (("norm", "targname", "verified"),))),
    (2, ("any", (ASIS, ("norm", "comments", "awaiting")))),
    (1, ("any", (("norm", "window", "verified"), ASIS, ("norm", "roll", "partial")))),
    (1, ("hrc", (("norm", "hrc_si_mode", "verified"),))),
    (1, ("any", (("norm", "offsets", "edits_done"),))),
)
OBSERVATIONS_WITH_HISTORY = 80
_SIGNERS = {"general": ARCOPS, "acis": ARCOPS, "acis_si": ACIS_TEAM, "hrc_si": HRC_TEAM, "verification": USINT}
_COMMENTS = {
    "asis": "Approved as is after checking the set-up with the PI.",
    "remove": "PI is revising the exposure strategy; no longer ready to go.",
    "window_markup": "please check <script>alert(1)</script> & window",
    "coords_large": "Updated position from the new VLA detection; PI confirmed (large shift).",
    "grating": "Switch to HETG for the line spectroscopy the PI needs; CDO approval attached.",
    "instrument": "Move to ACIS-S to put the source on the back-illuminated chip.",
    "offsets": "PI asked to move the aimpoint so the nucleus avoids the chip gap.",
    "roll": "Roll constraint so the jet stays clear of the readout streak.",
    "window": "Time window to coordinate with the HST visit.",
    "frame_time": "Shorter frame time to reduce pile-up.",
    "bep_pack": "Telemetry format changed after the count-rate update.",
    "remarks": "Updated remarks for mission planning.",
    "coords_small": "Refined position from the PI's new astrometry.",
    "dither": "Larger dither to smooth over bad columns.",
    "eventfilter": "Event filter to keep telemetry below the limit.",
    "targname": "Target renamed after the optical transient was classified.",
    "hrc_si_mode": "HRC SI mode changed for the bright-source set-up.",
}


@dataclass
class PlannedRevision:
    obs: PlannedObservation
    number: int
    kind: str
    submitter: str
    submitted_at: datetime
    comment: str
    notes: dict[str, bool]
    values: list[tuple[str, int, Any, Any, bool]]
    signoffs: dict[str, tuple[SignOffState, str | None, datetime | None]] = field(default_factory=dict)
    closed_at: datetime | None = None
    superseded_by: int | None = None


def _fits(obs: PlannedObservation, requirement: str, story: Story) -> bool:
    if not obs.editable or (obs.si_mode is None and any(step[0] == "asis" for step in story[1])):
        return False
    family = obs.instrument.split("-")[0]
    return {
        "any": True,
        "acis": family == "ACIS",
        "hrc": family == "HRC",
        "acis_i": obs.instrument == "ACIS-I",
        "acis_te": family == "ACIS" and obs.get("exp_mode") == "TE" and bool(obs.get("frame_time"))
        and obs.get("subarray") == "NONE",
        "acis_s_imaging": obs.instrument == "ACIS-S" and obs.grating == "NONE" and obs.get("exp_mode") == "TE",
        "generated": not obs.target.star and "<" not in obs.target_name,
    }[requirement]


def _signoffs(rng: Random, plan: PlannedRevision, areas: list[str], state: str, end: datetime) -> None:
    """Fill the sign-off rows for ``state``, acting in area order between submission and ``end``."""
    plan.signoffs = {area: (SignOffState.NOT_REQUIRED, None, None) for area, _ in AREAS}
    edit_areas = areas[:-1]
    if plan.kind in ("asis", "remove"):  # auto-verified by the submitter at submission
        plan.signoffs["verification"] = (SignOffState.SIGNED, plan.submitter, plan.submitted_at)
        plan.closed_at = plan.submitted_at
        return
    # "partial" and "superseded" leave the last edit area open (a single area is then signed).
    signed = {"awaiting": 0, "edits_done": len(edit_areas), "verified": len(edit_areas)}.get(
        state, max(1, len(edit_areas) - 1)
    )
    if state == "discarded":
        signed = min(signed, len(edit_areas) - 1)
    span = (end - plan.submitted_at).total_seconds()
    times = iter(sorted(plan.submitted_at + timedelta(seconds=int(span * rng.uniform(0.05, 0.95))) for _ in areas))
    verifier = plan.submitter if rng.random() < 0.7 else rng.choice(USINT)
    for index, area in enumerate(edit_areas):
        if index < signed:
            plan.signoffs[area] = (SignOffState.SIGNED, rng.choice(_SIGNERS[area]), next(times))
        elif state == "discarded":
            plan.signoffs[area] = (SignOffState.DISCARDED, verifier, None)
        else:
            plan.signoffs[area] = (SignOffState.PENDING, None, None)
    if state in ("verified", "discarded"):
        plan.closed_at = next(times)
        plan.signoffs["verification"] = (SignOffState.SIGNED, verifier, plan.closed_at)
        plan.signoffs |= {
            area: (state_, who, plan.closed_at)
            for area, (state_, who, _) in plan.signoffs.items()
            if state_ is SignOffState.DISCARDED
        }
    else:
        plan.signoffs["verification"] = (SignOffState.PENDING, None, None)


def _plan_story(ctx: DemoContext, rng: Random, obs: PlannedObservation, story: Story) -> list[PlannedRevision]:
    steps = story[1]
    submitted = sorted(ctx.anchor - timedelta(seconds=rng.randint(6 * 3600, 10 * 86400)) for _ in steps)
    poc = rng.choice(USINT)
    plans: list[PlannedRevision] = []
    for number, ((kind, key, state), at) in enumerate(zip(steps, submitted, strict=True), start=1):
        edits: list[Edit] = make_changes(rng, obs, key.removesuffix("_markup"), ctx.anchor) if key else []
        changed = {(name, rank): (old, new) for name, rank, old, new in edits}
        snapshot = dict.fromkeys(changed, None) | obs.params
        values = [
            (name, rank, changed[(name, rank)][0], changed[(name, rank)][1], True)
            if (name, rank) in changed else (name, rank, value, None, False)
            for (name, rank), value in sorted(snapshot.items())
        ]  # fmt: skip
        submitter = poc if rng.random() < 0.85 else rng.choice(USINT)
        comment = _COMMENTS.get(key or kind) or next(str(new) for name, _, _, new in edits if name == "comments")
        plan = PlannedRevision(obs, number, kind, submitter, at, comment, revision_notes(obs, edits, at), values)
        end = submitted[number] if number < len(steps) else ctx.anchor
        _signoffs(rng, plan, required_areas(obs, kind, edits), state, end)
        if state == "superseded":
            plan.superseded_by = number + 1
        if kind == "norm" and state == "verified":
            for name, rank, _, new in edits:
                obs.set(name, rank, new)
        if kind in ("asis", "remove"):
            obs.approved = kind == "asis"
        plans.append(plan)
    return plans


def plan_revisions(ctx: DemoContext, observations: list[PlannedObservation]) -> list[PlannedRevision]:
    """Give ``OBSERVATIONS_WITH_HISTORY`` editable observations a history; verified changes and approvals apply to them."""
    rng = ctx.rng("revisions")
    pool = [obs for obs in observations if obs.editable]
    rng.shuffle(pool)
    weights, common = zip(*COMMON_STORIES, strict=True)
    stories = list(REQUIRED_STORIES) + rng.choices(common, weights, k=OBSERVATIONS_WITH_HISTORY - len(REQUIRED_STORIES))
    plans: list[PlannedRevision] = []
    for story in stories:
        obs = next((obs for obs in pool if _fits(obs, story[0], story)), None)
        if obs is not None:
            pool.remove(obs)
            plans.extend(_plan_story(ctx, rng, obs, story))
    return plans


def insert_revisions(ctx: DemoContext, plans: list[PlannedRevision], observation_ids: dict[int, int]) -> None:
    """Insert the revisions not there yet (by obsid and number), with their sign-offs and values."""
    obsids = {plan.obs.obsid for plan in plans}
    query = select(Revision.obsid, Revision.number, Revision.id).where(Revision.obsid.in_(obsids))
    ids = {(obsid, number): id_ for obsid, number, id_ in ctx.session.execute(query)}
    new = [plan for plan in plans if (plan.obs.obsid, plan.number) not in ids]
    rows: dict[int, Revision] = {}
    # Superseding revisions first, so the ones they supersede can name them when inserted.
    for batch in ([p for p in new if p.superseded_by is None], [p for p in new if p.superseded_by is not None]):
        batch_rows = [
            Revision(
                observation_id=observation_ids[plan.obs.obsid],
                obsid=plan.obs.obsid,
                number=plan.number,
                kind=RevisionKind(plan.kind),
                submitted_by_id=ctx.user_id(plan.submitter),
                submitted_at=plan.submitted_at,
                comment=plan.comment,
                notes=plan.notes,
                closed_at=plan.closed_at,
                superseded_by_id=ids.get((plan.obs.obsid, plan.superseded_by)) if plan.superseded_by else None,
                updated_at=ctx.moment,
            )
            for plan in batch
        ]
        ctx.add_all(batch_rows)
        for plan, row in zip(batch, batch_rows, strict=True):
            ids[(plan.obs.obsid, plan.number)] = row.id
            rows[id(plan)] = row
    ctx.bulk_insert(SignOff, [
        {"revision_id": rows[id(plan)].id, "area": area, "position": position, "state": state,
         "actor_id": ctx.user_id(who) if who else None, "acted_at": at, "version": 1, "updated_at": ctx.moment}
        for plan in new for area, position in AREAS for state, who, at in [plan.signoffs[area]]
    ])  # fmt: skip
    ctx.bulk_insert(RevisionValue, [
        {"revision_id": rows[id(plan)].id, "name": name, "rank": rank, "original": original, "requested": requested,
         "changed": changed}
        for plan in new for name, rank, original, requested, changed in plan.values
    ])  # fmt: skip
