"""Training losses measured the way the benchmark measures fields: after the best shift along the boundary.

Where the structural units of a boundary sit along x is a matter of convention (the dataset's alignment rule
fixes one phase per boundary, not one that an unseen boundary can be predicted to share). A pointwise squared
error punishes a modulation of the right shape at another phase twice, so a network trained with it learns to
shrink the modulation towards the line average. :func:`aligned_squared_error` measures the error after the
periodic x shift that brings the two fields closest, one shift per boundary slab and one for all components
(the rule of ``nyegan.gan.fieldmetrics``, on whole grid steps): the mean field along the boundary is unaffected,
the modulation is free to take any phase.

Fields: (B, 3, 3, nx, ny[, nz]) torch tensors in any units (training uses each component over its dataset rms);
``gb_frac``: (B, 2) fractional y of the two boundaries.
"""

from __future__ import annotations

import torch

from nyegan.content import slab_masks


def aligned_squared_error(pred: torch.Tensor, real: torch.Tensor, gb_frac: torch.Tensor) -> torch.Tensor:
    """(B,) mean squared difference of each pair (pred[b], real[b]) after the best periodic x shift of pred,
    one shift per boundary slab (whole grid steps; the cross-correlation from the x spectra). It is never above
    the pointwise mean squared error and is unchanged when pred is rolled along x within a slab; gradients flow
    through the best shift's term."""
    B, nx, ny = pred.shape[0], pred.shape[3], pred.shape[4]
    p = pred.reshape(B, -1, nx, ny, 1 if pred.dim() == 5 else pred.shape[5])
    r = real.reshape(p.shape).to(p.dtype)
    fp, fr = torch.fft.rfft(p, dim=2), torch.fft.rfft(r, dim=2)
    masks = slab_masks(gb_frac, ny).to(p.dtype)  # (B, 2, ny)
    total = torch.zeros(B, device=p.device, dtype=p.dtype)
    for s in (0, 1):
        m = masks[:, s].reshape(B, 1, 1, ny, 1)
        cross = (fp * fr.conj() * m).sum(dim=(1, 3, 4))  # (B, nx//2+1)
        corr = torch.fft.irfft(cross, n=nx, dim=1)  # (B, nx): Σ pred(x + k) real(x) over the slab, per shift k
        total = total + (p**2 * m).sum(dim=(1, 2, 3, 4)) + (r**2 * m).sum(dim=(1, 2, 3, 4)) - 2 * corr.max(dim=1).values
    return total.clamp_min(0.0) / p[0].numel()
