import numpy as np
import pytest

from phantom.texture import Architecture, make_tiles, nearest_tile, trabecular_occupancy


def _occupancy(bv_tv, density_t):
    tiles = make_tiles(np.random.default_rng(0))
    points = np.stack(np.meshgrid(*[np.arange(0, 30, 0.7)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    fields = (nearest_tile(tiles.families[0], points), nearest_tile(tiles.families[1], points))
    return trabecular_occupancy(
        fields, nearest_tile(tiles.perforation, points), Architecture.for_bone_fraction(bv_tv, density_t)
    )


def test_the_network_has_the_bone_fraction_asked_for():
    for bv_tv, t in ((0.05, -3.5), (0.12, -1.5), (0.2, 0.5)):
        assert _occupancy(bv_tv, t).mean() == pytest.approx(bv_tv, rel=0.2)


def test_lower_density_thins_and_perforates_the_plates():
    dense, sparse = Architecture.for_bone_fraction(0.2, 0.5), Architecture.for_bone_fraction(0.05, -3.5)
    assert sparse.plate_width < dense.plate_width and sparse.connectivity < dense.connectivity
    # Texture, not only the mean: the share of empty (marrow-only) voxels grows faster than BV/TV falls.
    empty_dense = np.mean(_occupancy(0.2, 0.5) == 0)
    empty_sparse = np.mean(_occupancy(0.05, -3.5) == 0)
    assert empty_sparse > empty_dense + 0.15


def test_an_impossible_bone_fraction_is_refused():
    with pytest.raises(ValueError):
        Architecture.for_bone_fraction(0.0, 0.0)
