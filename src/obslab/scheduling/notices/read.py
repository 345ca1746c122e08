"""`read_notice`: the reader for a payload chosen by its Kafka topic or file name, else by what it looks like."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePath

from obslab.errors import InvalidInputError
from obslab.scheduling.notices.from_voevent import read_voevent
from obslab.scheduling.notices.gwalert import TOPIC as GWALERT_TOPIC
from obslab.scheduling.notices.gwalert import read_gwalert
from obslab.scheduling.notices.types import Notice, NoticeFormat
from obslab.scheduling.notices.unified import read_unified

Reader = Callable[..., Notice]
#: Topics carrying VOEvent XML over Kafka: GCN Classic's and the missions' own (SVOM, KM3NeT).
VOEVENT_TOPICS = ("gcn.classic.voevent.", "gcn.notices.svom.voevent.", "gcn.notices.km3net.voevent")
#: Topics that are not notices at all (a heartbeat each second, circulars as text for people).
NOT_NOTICES = ("gcn.heartbeat", "gcn.circulars")


def read_notice(topic_or_source: str, payload: bytes) -> Notice:
    """Read one payload from a Kafka topic or a file; an unknown shape is refused naming the topic or file.

    ``igwn.gwalert`` is LVK's; ``gcn.classic.voevent.*``, ``gcn.notices.svom.voevent.*`` and ``*.xml`` files
    are VOEvent; other ``gcn.notices.*`` topics and ``*.json`` files are Unified Schema.  Anything else is
    read by its first bytes: ``<`` is XML, ``{`` with a ``superevent_id`` is LVK's, other JSON Unified.
    A file's notice has the file's folder as its source, so notices dropped in one folder share it.
    """
    where = topic_or_source
    source, reader = _by_name(topic_or_source)
    if reader is None:
        reader = _by_content(payload, where)
    notice = reader(payload, source=source, where=where)
    topic = topic_or_source if source == topic_or_source else _topic_of_file(notice)
    return replace(notice, details={**notice.details, "topic": topic}) if topic else notice


def _topic_of_file(notice: Notice) -> str | None:
    """The topic a notice dropped in a folder would have come on: LVK's, or a GCN notice's from its ``$schema``.

    A Unified-Schema notice names its schema, ``.../gcn/notices/swift/bat/guano.schema.json``, and GCN names
    the topic after it, ``gcn.notices.swift.bat.guano``; so a site's policies on topics serve its folder too.
    """
    if notice.format is NoticeFormat.GWALERT:
        return GWALERT_TOPIC
    if notice.format is not NoticeFormat.UNIFIED_JSON:
        return None
    schema = json.loads(notice.payload).get("$schema")
    if not isinstance(schema, str) or "/gcn/notices/" not in schema or not schema.endswith(".schema.json"):
        return None
    path = schema.rpartition("/gcn/notices/")[2].removesuffix(".schema.json")
    return "gcn.notices." + path.replace("/", ".").lower()


def _by_name(name: str) -> tuple[str, Reader | None]:
    suffix = PurePath(name).suffix.lower()
    if suffix in (".xml", ".json"):
        folder = str(PurePath(name).parent)
        return folder, read_voevent if suffix == ".xml" else None
    if name in NOT_NOTICES:
        raise InvalidInputError("topic", name, "a topic of alert notices (heartbeats and circulars are not notices)")
    if name == GWALERT_TOPIC:
        return name, read_gwalert
    if name.startswith(VOEVENT_TOPICS):
        return name, read_voevent
    if name.startswith("gcn.notices."):
        return name, read_unified
    return name, None


def _by_content(payload: bytes, where: str) -> Reader:
    head = payload[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return read_voevent
    if head.startswith(b"{"):
        # LVK's envelope names its superevent near the top; a unified notice never has the field.
        return read_gwalert if b'"superevent_id"' in payload and b'"time_created"' in payload else read_unified
    raise InvalidInputError(
        "topic",
        where,
        "igwn.gwalert, gcn.classic.voevent.*, gcn.notices.*, a .xml or .json file, or a payload that is XML or JSON",
    )
