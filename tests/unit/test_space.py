"""Spatial structures and distances."""
import numpy as np
import pytest

from neurosim.errors import ValidationError
from neurosim.space import Grid2D, Grid3D, Line, RandomStructure, distances


def test_line_positions():
    pos = Line(dx=2.0, x0=1.0).generate_positions(4)
    assert pos.dtype == np.float64 and pos.shape == (4, 3)
    assert np.array_equal(pos[:, 0], [1.0, 3.0, 5.0, 7.0])
    assert not pos[:, 1:].any()
    assert Line().generate_positions(0).shape == (0, 3)


def test_grid2d_fills_like_pynn():
    pos = Grid2D(aspect_ratio=2.0, dx=10.0, dy=5.0, x0=1.0).generate_positions(18)
    assert Grid2D(aspect_ratio=2.0).dimensions(18) == (6, 3)
    # neuron k at (x0 + dx*(k // ny), y0 + dy*(k % ny))
    k = np.arange(18)
    assert np.array_equal(pos[:, 0], 1.0 + 10.0 * (k // 3))
    assert np.array_equal(pos[:, 1], 5.0 * (k % 3))
    assert not pos[:, 2].any()


def test_grid2d_rejects_size_that_does_not_fit():
    with pytest.raises(ValidationError) as info:
        Grid2D(aspect_ratio=1.0).generate_positions(10)
    msg = str(info.value)
    assert "Grid2D.aspect_ratio" in msg and "n = 10" in msg and "9" in msg and "16" in msg


def test_grid3d_dimensions_and_positions():
    g = Grid3D(aspect_ratioXY=1.0, aspect_ratioXZ=2.0, dx=1.0, dy=2.0, dz=3.0)
    assert g.dimensions(32) == (4, 4, 2)
    pos = g.generate_positions(32)
    assert pos.shape == (32, 3)
    assert len({tuple(p) for p in pos}) == 32
    assert set(pos[:, 2]) == {0.0, 3.0}
    assert set(pos[:, 1]) == {0.0, 2.0, 4.0, 6.0}
    with pytest.raises(ValidationError, match=r"Grid3D\.aspect_ratioXY: 16 neurons"):
        g.generate_positions(16)


def test_random_structure_in_box_and_deterministic():
    s = RandomStructure(boundary_size=(100.0, 50.0, 0.0), origin=(10.0, 0.0, 5.0))
    pos = s.generate_positions(5000, np.random.default_rng(2))
    assert pos.shape == (5000, 3)
    assert pos[:, 0].min() >= -40 and pos[:, 0].max() <= 60
    assert pos[:, 1].min() >= -25 and pos[:, 1].max() <= 25
    assert np.all(pos[:, 2] == 5.0)
    assert abs(pos[:, 0].mean() - 10.0) < 5 * 100 / np.sqrt(12 * 5000)
    again = s.generate_positions(5000, np.random.default_rng(2))
    assert np.array_equal(pos, again)
    with pytest.raises(ValidationError, match=r"RandomStructure\.rng"):
        s.generate_positions(5)


@pytest.mark.parametrize("make,needle", [
    (lambda: Line(dx=float("nan")), "Line.dx"),
    (lambda: Grid2D(aspect_ratio=0), "Grid2D.aspect_ratio: must be > 0"),
    (lambda: RandomStructure(boundary_size=(1, 2)), "RandomStructure.boundary_size"),
    (lambda: RandomStructure(boundary_size=(1, -2, 3)), "RandomStructure.boundary_size"),
    (lambda: Line().generate_positions(-1), "Line.n"),
])
def test_structure_validation(make, needle):
    with pytest.raises(ValidationError, match=needle):
        make()


def test_distances_match_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.random((7, 3)) * 10, rng.random((5, 3)) * 10
    d = distances(a, b)
    assert d.shape == (7, 5)
    expected = np.array([[np.linalg.norm(p - q) for q in b] for p in a])
    assert np.allclose(d, expected)


def test_distances_periodic():
    a = np.array([[1.0, 0.0, 0.0]])
    b = np.array([[9.0, 0.0, 0.0], [5.0, 3.0, 0.0]])
    assert np.allclose(distances(a, b), [[8.0, 5.0]])
    assert np.allclose(distances(a, b, periodic_boundaries=(10.0, None, None)), [[2.0, 5.0]])
    assert np.allclose(distances(a, b, periodic_boundaries=((0, 10), (0, 4), None)),
                       [[2.0, np.sqrt(16 + 1)]])
    with pytest.raises(ValidationError, match="periodic_boundaries"):
        distances(a, b, periodic_boundaries=(10.0,))
    with pytest.raises(ValidationError, match=r"distances\.pos_b: must have shape \(n, 3\)"):
        distances(a, np.zeros((2, 2)))
