"""VOEvent 2.0 packets shaped like real Swift, Fermi, Gaia and ground-survey notices (IVOA, 2011), for the demo's feed.

The tests build their packets with these too (and keep the hostile ones to themselves).
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape, quoteattr


def voevent(
    ivorn: str,
    *,
    when: datetime | None,
    ra: float | None = None,
    dec: float | None = None,
    error_deg: float | None = None,
    role: str = "observation",
    author: str = "ivo://nasa.gsfc.tan/gcn",
    short_name: str = "GCN",
    params: dict[str, str] | None = None,
    citations: list[tuple[str, str]] = (),
    importance: float | None = None,
    concept: str = "process.variation.burst;em.gamma",
) -> str:
    """A packet with the standard's sections: Who, What, WhereWhen (UTC-ICRS-TOPO), How, Why, Citations."""
    what = "".join(
        f"<Param name={quoteattr(name)} value={quoteattr(value)}/>" for name, value in (params or {}).items()
    )
    position = ""
    if ra is not None and dec is not None:
        position = (
            f'<Position2D unit="deg"><Name1>RA</Name1><Name2>Dec</Name2><Value2><C1>{ra}</C1><C2>{dec}</C2></Value2>'
            + (f"<Error2Radius>{error_deg}</Error2Radius>" if error_deg is not None else "")
            + "</Position2D>"
        )
    time = (
        f'<Time unit="s"><TimeInstant><ISOTime>{when:%Y-%m-%dT%H:%M:%S.%f}</ISOTime></TimeInstant></Time>'
        if when
        else ""
    )
    cites = ""
    if citations:
        cites = "<Citations>" + "".join(
            f'<EventIVORN cite="{kind}">{escape(cited)}</EventIVORN>' for kind, cited in citations
        )
        cites += "<Description>Update of an earlier notice</Description></Citations>"
    why = f'<Why importance="{importance}">' if importance is not None else "<Why>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.ivoa.net/xml/VOEvent/v2.0 http://www.ivoa.net/xml/VOEvent/VOEvent-v2.0.xsd"
    version="2.0" role={quoteattr(role)} ivorn={quoteattr(ivorn)}>
  <Who><AuthorIVORN>{escape(author)}</AuthorIVORN><Date>{when:%Y-%m-%dT%H:%M:%S}</Date>
    <Author><shortName>{escape(short_name)}</shortName><contactEmail>operator@example.org</contactEmail></Author></Who>
  <What>{what}</What>
  <WhereWhen><ObsDataLocation><ObservatoryLocation id="GEOLUN"/>
    <ObservationLocation><AstroCoordSystem id="UTC-ICRS-TOPO"/>
      <AstroCoords coord_system_id="UTC-ICRS-TOPO">{time}{position}</AstroCoords>
    </ObservationLocation></ObsDataLocation></WhereWhen>
  <How><Description>Simulated notice (obslab demo)</Description></How>
  {why}<Inference probability="0.9"><Concept>{escape(concept)}</Concept></Inference></Why>
  {cites}
</voe:VOEvent>
"""


def swift_bat_grb(
    trigger: int,
    when: datetime,
    ra: float,
    dec: float,
    *,
    error_deg: float = 0.05,
    role: str = "observation",
    citations: list[tuple[str, str]] = (),
) -> str:
    return voevent(
        f"ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_{trigger}-259",
        when=when,
        ra=ra,
        dec=dec,
        error_deg=error_deg,
        role=role,
        short_name="Swift-BAT",
        params={"TrigID": str(trigger), "Rate_Signif": "12.5", "Packet_Type": "61"},
        citations=citations,
        importance=0.9,
    )


def fermi_gbm(trigger: int, when: datetime, ra: float, dec: float, *, error_deg: float = 0.8) -> str:
    return voevent(
        f"ivo://nasa.gsfc.gcn/Fermi#GBM_Fin_Pos{when:%Y-%m-%d}_{trigger}",
        when=when,
        ra=ra,
        dec=dec,
        error_deg=error_deg,
        short_name="Fermi-GBM",
        params={"TrigID": str(trigger), "Packet_Type": "115"},
        importance=0.8,
    )


def gaia_alert(name: str, when: datetime, ra: float, dec: float) -> str:
    return voevent(
        f"ivo://gaia.esa.int/science-alerts#{name}",
        when=when,
        ra=ra,
        dec=dec,
        error_deg=0.0001,
        author="ivo://gaia.esa.int/science-alerts",
        short_name="Gaia Science Alerts",
        params={"TargetName": name, "AlertMag": "17.9", "Class": "SN"},
        concept="process.variation",
        importance=0.6,
    )


def survey_transient(
    name: str, when: datetime, ra: float, dec: float, *, importance: float = 0.7, citations: list[tuple[str, str]] = ()
) -> str:
    return voevent(
        f"ivo://ztf.uw/transients#{name}",
        when=when,
        ra=ra,
        dec=dec,
        error_deg=0.0003,
        author="ivo://ztf.uw/transients",
        short_name="ZTF",
        params={"TargetName": name, "magpsf": "18.4", "fid": "2"},
        concept="process.variation",
        importance=importance,
        citations=citations,
    )
