"""``parkplan check``: the checker's own kerb attachment, each check seeded into a correct layout, the CLI."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from parkplan.check.attach import attach_bays
from parkplan.check.geometry import KerbSegments
from parkplan.kerbs import build_kerbs
from parkplan.rules import load_rules

CRS = "EPSG:25833"
X0, Y0 = 392_000.0, 5_817_000.0


def kerb_table(lines, **columns):
    frame = gpd.GeoDataFrame(
        {"curb_id": [f"k{i}" for i in range(len(lines))], "width_m": np.nan, **columns},
        geometry=list(lines),
        crs=CRS,
    )
    return build_kerbs(frame, load_rules("cn"))


def rect(x0, x1, y0, y1):
    return Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


# --------------------------------------------------------------------------------------------------
# attach_bays
# --------------------------------------------------------------------------------------------------


def test_segments_chainage_and_projection() -> None:
    line = LineString([(X0, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 5)])
    segs = KerbSegments(np.array([line, LineString([(X0, Y0 + 20), (X0 + 3, Y0 + 20)])], dtype=object))
    assert segs.s0_m.tolist() == [0.0, 10.0, 0.0]
    assert segs.kerb_length_m.tolist() == [15.0, 3.0]
    xy = np.array([[X0 + 12, Y0 + 2], [X0 + 4, Y0 - 1]])
    proj = segs.on_kerb(xy, np.array([0, 0]), 5.0)
    assert proj.point.tolist() == [0, 1]
    assert np.allclose(proj.s_m, [12.0, 4.0])
    assert np.allclose(proj.dist_m, [2.0, 1.0])
    # (x+12, y+2) is right of the rising segment; (x+4, y-1) right of the first one.
    assert segs.left_of(xy, proj).tolist() == [False, False]


def test_attach_by_curb_id_and_nearest() -> None:
    kerbs = kerb_table(
        [LineString([(X0, Y0), (X0 + 100, Y0)]), LineString([(X0, Y0 + 8), (X0 + 100, Y0 + 8)])]
    )
    # Right-hand traffic, flow forward: the carriageway is left of each line (north).
    bays = gpd.GeoDataFrame(
        {"curb_id": ["k0", None, None, "k1"]},
        geometry=[
            rect(X0 + 10, X0 + 15.2, Y0, Y0 + 2),  # on k0, named
            rect(X0 + 20, X0 + 25, Y0 + 0.3, Y0 + 2.3),  # user bay, 0.3 m off k0
            rect(X0 + 30, X0 + 35, Y0 + 5.5, Y0 + 7.9),  # user bay under k1 (south of it: footway side)
            rect(X0 + 40, X0 + 45, Y0 + 6, Y0 + 8),  # named k1, south of it: wrong side
        ],
        crs=CRS,
    )
    at = attach_bays(bays, kerbs)
    assert at["bay"].tolist() == [0, 1, 2, 3]
    assert at["kerb"].tolist() == [0, 0, 1, 1]
    assert np.allclose(at["s0_m"], [10, 20, 30, 40])
    assert np.allclose(at["s1_m"], [15.2, 25, 35, 45])
    assert np.allclose(at["offset_m"], [0.0, 0.3, 0.1, 0.0])
    assert at["carriageway_side"].tolist() == [True, True, False, False]


def test_attach_prefers_the_kerb_of_the_longest_edge() -> None:
    # A corner: the bay's long side lies on k1 (vertical), its short end 0.2 m from k0.
    kerbs = kerb_table([LineString([(X0 + 100, Y0), (X0, Y0)]), LineString([(X0, Y0), (X0, Y0 + 100)])])
    bay = rect(X0, X0 + 2, Y0 + 0.2, Y0 + 5.4)
    at = attach_bays(gpd.GeoDataFrame(geometry=[bay], crs=CRS), kerbs)
    assert at["kerb"].tolist() == [1]
    assert np.allclose(at[["s0_m", "s1_m"]].to_numpy(), [[0.2, 5.4]])


def test_attach_far_and_unattached() -> None:
    kerbs = kerb_table([LineString([(X0, Y0), (X0 + 100, Y0)])])
    bays = gpd.GeoDataFrame(
        geometry=[rect(X0 + 10, X0 + 15, Y0 + 3, Y0 + 5), rect(X0 + 10, X0 + 15, Y0 + 6, Y0 + 8)], crs=CRS
    )
    at = attach_bays(bays, kerbs)
    assert at["kerb"].tolist() == [0, -1]
    assert np.isclose(at["offset_m"][0], 3.0)
    assert np.allclose(at[["s0_m", "s1_m"]].to_numpy()[0], [10, 15])
    assert np.isnan(at["s0_m"][1])


def test_attach_angled_bay_on_a_bent_kerb() -> None:
    # Kerb edge on two segments of a bent kerb; the far corners shifted upstream do not count.
    line = LineString([(X0, Y0), (X0 + 10, Y0), (X0 + 20, Y0 + 2)])
    kerbs = kerb_table([line])
    p = shapely.line_interpolate_point(line, [8.0, 12.0])
    a, b = shapely.get_coordinates(p)
    shift = np.array([-2.0, 4.0])
    bay = Polygon([a, (X0 + 10, Y0), b, b + shift, a + shift])
    at = attach_bays(gpd.GeoDataFrame(geometry=[bay], crs=CRS), kerbs)
    assert np.allclose(at[["s0_m", "s1_m"]].to_numpy(), [[8.0, 12.0]])
    assert at["carriageway_side"].tolist() == [True]
