"""The pipeline's stages and what each depends on (pure): night-level calibration and seeing, then per exposure."""

from __future__ import annotations

from obslab.observing.types import ExposureKind

#: Stages run once per night (their ``pipeline_stages`` rows have no exposure).
NIGHT_STAGES = ("calibration", "seeing")
#: Stages run for every science exposure, in this order.
EXPOSURE_STAGES = ("stack", "strehl", "preview")
#: What each stage reads: a stage is out of date when anything it depends on was redone.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "calibration": (),
    "seeing": ("calibration",),
    "stack": ("calibration",),
    "strehl": ("stack",),
    "preview": ("stack", "strehl"),
}
#: Stage versions: a change in how a stage computes bumps its version, so its fingerprint changes and it reruns.
#: calibration 2 and strehl 2: the calibration levels, and the sky, counts and magnitude of each exposure.
#: seeing 2, stack 2, strehl 3, preview 2: the tables became FITS tables and the previews carry their provenance.
STAGE_VERSIONS = {"calibration": "2", "seeing": "2", "stack": "2", "strehl": "3", "preview": "2"}
CALIBRATION_KINDS = frozenset({ExposureKind.BIAS, ExposureKind.DARK, ExposureKind.FLAT})


def downstream(stage: str) -> tuple[str, ...]:
    """``stage`` and every stage that depends on it, directly or not, in graph order."""
    found = {stage}
    for name in DEPENDS_ON:  # the dict is in dependency order, so one pass suffices
        if any(parent in found for parent in DEPENDS_ON[name]):
            found.add(name)
    return tuple(name for name in DEPENDS_ON if name in found)


def stages_reset_by(kind: ExposureKind) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(night stages, exposure stages of every science exposure that night) a changed raw file of ``kind`` resets.

    A science file resets only its own exposure's stages (see ``EXPOSURE_STAGES``), which the caller does.
    """
    if kind in CALIBRATION_KINDS:
        stages = downstream("calibration")
    elif kind is ExposureKind.SEEING:
        stages = downstream("seeing")
    else:
        return (), ()
    return (
        tuple(s for s in stages if s in NIGHT_STAGES),
        tuple(s for s in stages if s in EXPOSURE_STAGES),
    )
