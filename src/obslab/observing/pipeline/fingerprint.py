"""Inputs fingerprints (pure): a stage reruns exactly when what it reads, its version or its parameters change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from obslab.observing.pipeline.graph import STAGE_VERSIONS


def fingerprint(stage: str, inputs: Sequence[str], parameters: Mapping[str, Any]) -> str:
    """SHA-256 over the stage, its version, its inputs' checksums (order-free) and its parameters."""
    document = {
        "stage": stage,
        "version": STAGE_VERSIONS[stage],
        "inputs": sorted(inputs),
        "parameters": dict(sorted(parameters.items())),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
