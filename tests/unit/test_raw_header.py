"""Raw-file headers as ingest reads them: typed keywords, refusals naming file and keyword, JSON-safe copies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from astropy.io import fits

from obslab.observing.header import DEFAULT_INSTRUMENT, HeaderError, angle_deg, header_json, read_header

BASE = {"DATE-OBS": "2026-11-21T03:04:05.5", "EXPTIME": 0.25, "NAXIS": 3, "NAXIS3": 40}


def test_the_keywords_are_typed() -> None:
    cards = BASE | {"TELRA": "12:30:00.0", "TELDEC": "-05:30:36", "AIRMASS": 1.31, "CAMMODE": "fast", "OBJECT": "M31"}
    header = read_header(cards, "x.fits")
    assert header.date_obs == datetime(2026, 11, 21, 3, 4, 5, 500000, tzinfo=UTC)
    assert (header.exptime_s, header.n_frames, header.camera_mode, header.object_name) == (0.25, 40, "fast", "M31")
    assert header.ra_deg == pytest.approx(187.5) and header.dec_deg == pytest.approx(-5.51)
    assert header.instrument == DEFAULT_INSTRUMENT and header.airmass == 1.31
    assert header.ended_at == header.date_obs.replace(second=15, microsecond=500000)  # 40 frames of 0.25 s


def test_positions_in_degrees_or_sexagesimal_and_ra_dec_as_fallback() -> None:
    assert angle_deg("-00:30:00", hours=False) == -0.5  # the sign of a declination above -1 degree is kept
    assert angle_deg("+89:59:59.9", hours=False) == pytest.approx(89.99997, abs=1e-5)
    assert angle_deg("23 59 59.99", hours=True) == pytest.approx(359.99996, abs=1e-5)
    assert angle_deg(12.5, hours=True) == 12.5  # a number is degrees already
    assert angle_deg("12:61:00", hours=True) is None
    fallback = read_header(BASE | {"RA": 10.0, "DEC": "+20:00:00"}, "x.fits")
    assert (fallback.ra_deg, fallback.dec_deg) == (10.0, 20.0)
    assert read_header(BASE, "x.fits").ra_deg is None


def test_a_date_obs_with_a_zone_is_converted_to_utc_and_a_2d_image_is_one_frame() -> None:
    header = read_header({"DATE-OBS": "2026-11-20T20:00:00-07:00", "EXPTIME": 1, "NAXIS": 2}, "x.fits")
    assert header.date_obs == datetime(2026, 11, 21, 3, tzinfo=UTC) and header.n_frames == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DATE-OBS": None}, "x.fits: the header has no DATE-OBS; expected the UTC start of the first frame"),
        ({"DATE-OBS": "21/11/26"}, "x.fits: DATE-OBS = '21/11/26' is not allowed; expected an ISO date and time"),
        ({"EXPTIME": None}, "x.fits: the header has no EXPTIME; expected the seconds per frame"),
        ({"EXPTIME": -1.0}, "x.fits: EXPTIME = -1.0 is not allowed; expected the seconds per frame, a number >= 0"),
        ({"EXPTIME": "fast"}, "EXPTIME = 'fast' is not allowed"),
        ({"AIRMASS": 0.5}, "x.fits: AIRMASS = 0.5 is not allowed; expected a number >= 1"),
        ({"TELRA": "25:00:00"}, "x.fits: TELRA = '25:00:00' is not allowed; expected degrees from 0 to 360"),
        ({"TELDEC": 95.0}, "x.fits: TELDEC = 95.0 is not allowed; expected degrees from -90 to \\+90"),
        ({"NAXIS": 4}, "x.fits: NAXIS = 4 is not allowed; expected 2 \\(one image\\) or 3"),
        ({"NAXIS3": 0}, "x.fits: NAXIS3 = 0 is not allowed; expected the number of frames"),
        ({"CAMMODE": "x" * 17}, "CAMMODE = 'x{17}' is not allowed; expected a camera mode of at most 16 characters"),
    ],
)
def test_refusals_name_file_keyword_value_and_what_is_allowed(change: dict, message: str) -> None:
    cards = {key: value for key, value in (BASE | change).items() if value is not None}
    with pytest.raises(HeaderError, match=message) as refused:
        read_header(cards, "x.fits")
    assert refused.value.file == "x.fits" and refused.value.code == "bad_header"
    json.dumps(refused.value.as_dict())


def test_the_header_kept_is_json_safe_and_reads_back_the_same() -> None:
    header = fits.Header()
    header["SIMPLE"] = True
    header["NAXIS"] = 3
    header["NAXIS3"] = 2
    header["DATE-OBS"] = "2026-11-21T03:04:05.5"
    header["EXPTIME"] = 0.5
    header["PHASE"] = complex(1, 2)  # FITS allows complex values; JSON has none
    header["EMPTY"] = fits.card.UNDEFINED
    header.add_comment("first")
    header.add_comment("second")
    header.add_history("reduced nowhere")
    header.add_blank("")
    kept = header_json(header)
    assert kept["COMMENT"] == "first\nsecond" and kept["HISTORY"] == "reduced nowhere"
    assert kept["PHASE"] == "(1+2j)" and kept["EMPTY"] is None and "" not in kept
    assert json.loads(json.dumps(kept, allow_nan=False)) == kept
    assert read_header(kept, "x.fits") == read_header(header, "x.fits")
