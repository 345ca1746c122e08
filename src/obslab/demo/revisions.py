"""Demo change-request histories in every sign-off state, played through the change-request services at past times."""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random

from obslab.audit import AuditEvent
from obslab.catalog.changes.change_rules import VERIFICATION
from obslab.catalog.changes.policy import Policy
from obslab.catalog.changes.signoff import discard, sign_off, verify
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.lookup import find_observation
from obslab.catalog.models import ObservationParameter, Revision, RevisionValue, SignOff
from obslab.catalog.types import RevisionKind, SignOffState
from obslab.db import Clock
from obslab.demo.changes import make_changes
from obslab.demo.context import DemoContext
from obslab.demo.observations import PlannedObservation
from obslab.demo.people import ACIS_TEAM, ARCOPS, HRC_TEAM, USINT
from obslab.notify import Notification

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


#: Tables the services write while a history is played (verification adds parameters), counted for the summary.
_WRITTEN = (Revision, SignOff, RevisionValue, ObservationParameter, AuditEvent, Notification)


def _fits(obs: PlannedObservation, requirement: str, story: Story) -> bool:
    if not obs.editable or (obs.si_mode is None and any(step[0] == "asis" for step in story[1])):
        return False
    family = obs.instrument.split("-")[0]
    return {
        "any": True,
        "acis": family == "ACIS",
        "hrc": family == "HRC",
        "acis_i": obs.instrument == "ACIS-I",
        "acis_te": family == "ACIS"
        and obs.get("exp_mode") == "TE"
        and bool(obs.get("frame_time"))
        and obs.get("subarray") == "NONE",
        "acis_s_imaging": obs.instrument == "ACIS-S" and obs.grating == "NONE" and obs.get("exp_mode") == "TE",
        "generated": not obs.target.star and "<" not in obs.target_name,
    }[requirement]


def plan_stories(ctx: DemoContext, observations: list[PlannedObservation]) -> list[tuple[PlannedObservation, Story]]:
    """Give ``OBSERVATIONS_WITH_HISTORY`` editable observations a story: every required one, then common ones."""
    rng = ctx.rng("revisions")
    pool = [obs for obs in observations if obs.editable]
    rng.shuffle(pool)
    weights, common = zip(*COMMON_STORIES, strict=True)
    stories = list(REQUIRED_STORIES) + rng.choices(common, weights, k=OBSERVATIONS_WITH_HISTORY - len(REQUIRED_STORIES))
    chosen = []
    for story in stories:
        obs = next((obs for obs in pool if _fits(obs, story[0], story)), None)
        if obs is not None:
            pool.remove(obs)
            chosen.append((obs, story))
    return chosen


def play_revisions(ctx: DemoContext, stories: list[tuple[PlannedObservation, Story]]) -> None:
    """Play each story whose observation has no revision yet, as its people would have, through the services.

    Every submission, sign-off, verification and discard goes through the same checks, sign-off rules,
    audit events and outbox mail as a real one, at the moment the story gives it.  The mail of this
    history is marked sent when it was written: it belongs to the demo's past, not to a send queue.
    """
    session = ctx.session
    told = ctx.existing(Revision.obsid, (obs.obsid for obs, _ in stories))
    policy = Policy.default()
    with ctx.through_services(_WRITTEN):
        for index, (obs, story) in enumerate(stories):
            if obs.obsid not in told:
                _play(ctx, ctx.rng("revisions", obs.obsid, index), obs, story, policy)
    for obs, _ in stories:  # the planned observations follow the database, whichever load played their history
        row = find_observation(session, obs.obsid)
        obs.target_name, obs.ra_deg, obs.dec_deg, obs.approved = row.target_name, row.ra_deg, row.dec_deg, row.approved


def _play(ctx: DemoContext, rng: Random, obs: PlannedObservation, story: Story, policy: Policy) -> None:
    steps = story[1]
    submitted = sorted(ctx.anchor - timedelta(seconds=rng.randint(6 * 3600, 10 * 86400)) for _ in steps)
    poc = rng.choice(USINT)
    for number, ((kind, key, state), at) in enumerate(zip(steps, submitted, strict=True), start=1):
        end = submitted[number] if number < len(steps) else ctx.anchor
        edits = make_changes(rng, obs, key.removesuffix("_markup"), ctx.anchor) if key else []
        submitter = poc if rng.random() < 0.85 else rng.choice(USINT)
        # A split's "edit" is only its comment: a clone revision changes no parameter.
        comment = _COMMENTS.get(key or kind) or next(str(new) for name, _, _, new in edits if name == "comments")
        observation = find_observation(ctx.session, obs.obsid)
        revision, _check = submit_change(
            ctx.session,
            ctx.users[submitter],
            obs.obsid,
            seen_version=observation.version,
            kind=kind,
            edits=[(name, rank, new) for name, rank, _, new in edits if kind == RevisionKind.NORMAL],
            comment=comment,
            policy=policy,
            now=_at(at),
        )
        if kind in (RevisionKind.APPROVE_AS_IS, RevisionKind.REMOVE_APPROVAL):
            continue  # verified by the submitter on submission
        _sign_and_close(ctx, rng, revision, submitter, state, (at, end), policy)
        if kind == RevisionKind.NORMAL and state == "verified":
            for name, rank, _, new in edits:
                obs.set(name, rank, new)


def _sign_and_close(
    ctx: DemoContext,
    rng: Random,
    revision: Revision,
    submitter: str,
    state: str,
    between: tuple[datetime, datetime],
    policy: Policy,
) -> None:
    """Sign the revision's pending areas in order as far as ``state`` says, then verify or discard it."""
    pending = sorted(
        (s for s in revision.signoffs if s.area != VERIFICATION and s.state is SignOffState.PENDING),
        key=lambda s: s.position,
    )
    # "partial" and "superseded" leave the last area open (a single area is then signed).
    signed = {"awaiting": 0, "edits_done": len(pending), "verified": len(pending)}.get(state, max(1, len(pending) - 1))
    if state == "discarded":
        signed = min(signed, len(pending) - 1)
    start, end = between
    span = (end - start).total_seconds()
    times = iter(
        sorted(start + timedelta(seconds=int(span * rng.uniform(0.05, 0.95))) for _ in range(len(pending) + 1))
    )
    verifier = submitter if rng.random() < 0.7 else rng.choice(USINT)
    for signoff in pending[:signed]:
        signer = rng.choice(_SIGNERS[signoff.area])
        sign_off(
            ctx.session,
            ctx.users[signer],
            revision.label,
            signoff.area,
            seen_version=signoff.version,
            policy=policy,
            now=_at(next(times)),
        )
    if state == "verified":
        verify(
            ctx.session,
            ctx.users[verifier],
            revision.label,
            seen_version=revision.version,
            policy=policy,
            now=_at(next(times)),
        )
    elif state == "discarded":
        discard(
            ctx.session,
            ctx.users[verifier],
            revision.label,
            seen_version=revision.version,
            policy=policy,
            now=_at(next(times)),
        )


def _at(moment: datetime) -> Clock:
    """A clock stopped at ``moment``: the services stamp the story's time, not the load's."""
    return lambda: moment
