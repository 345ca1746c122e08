"""Hostile VOEvent packets for the parser's tests; the realistic ones come from obslab.demo.voevents."""

from obslab.demo.voevents import fermi_gbm, gaia_alert, survey_transient, swift_bat_grb, voevent

__all__ = ["BILLION_LAUGHS", "XXE", "fermi_gbm", "gaia_alert", "survey_transient", "swift_bat_grb", "voevent"]

XXE = """<?xml version="1.0"?>
<!DOCTYPE VOEvent [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<VOEvent version="2.0" role="observation" ivorn="ivo://evil/x#1"><Who><AuthorIVORN>&secret;</AuthorIVORN></Who></VOEvent>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<VOEvent version="2.0" role="observation" ivorn="ivo://evil/x#2"><Who><AuthorIVORN>&lol3;</AuthorIVORN></Who></VOEvent>"""
