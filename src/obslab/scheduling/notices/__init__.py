"""Alert notices above the transport: one `Notice` read from VOEvent, GCN Unified-Schema JSON or LVK's igwn.gwalert."""

from obslab.scheduling.notices.read import read_notice
from obslab.scheduling.notices.types import Notice, NoticeFormat, NoticeKind

__all__ = ["Notice", "NoticeFormat", "NoticeKind", "read_notice"]
