import numpy as np
import torch

from nyegan.periodic import frac_distance, frac_offset


def test_periodic_offsets_wrap_into_half_a_cell_for_numpy_and_torch():
    frac = np.array([0.05, 0.95, 0.5, 0.3, 0.74])
    centre = 0.9
    want = np.array([0.15, 0.05, -0.4, 0.4, -0.16])
    np.testing.assert_allclose(frac_offset(frac, centre), want, atol=1e-12)
    np.testing.assert_allclose(frac_offset(torch.tensor(frac), centre).numpy(), want, atol=1e-12)
    d = frac_distance(frac, centre)
    assert (d >= 0).all() and (d <= 0.5).all()
    np.testing.assert_allclose(d, np.abs(want), atol=1e-12)
    # symmetric and invariant under whole-cell translations
    np.testing.assert_allclose(frac_distance(frac + 3.0, centre), frac_distance(centre, frac), atol=1e-12)
