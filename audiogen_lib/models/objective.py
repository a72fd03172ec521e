"""The study's loss ``alpha * RMSE + KL`` read as an evidence lower bound.

The RMSE is a mean over the ``D`` pixels of an image, the KL a sum over the code's
dimensions, and a Gaussian decoder's negative log-likelihood a sum over pixels,
``D * MSE / (2 sigma_x^2)``. Matching the slopes in the MSE at the trained error,
``alpha / (2 RMSE) = D / (2 sigma_x^2)``, gives the decoder the loss stands for; read
against a decoder whose noise is the model's own error (``sigma_x = RMSE``), the same
balance is a KL weight ``beta``.

Public names
------------
decoder_sigma     the Gaussian decoder's sigma_x that ``alpha * RMSE`` stands for: sqrt(D RMSE / alpha)
beta_equivalent   the KL weight of the same balance with sigma_x = RMSE: D / (alpha RMSE)
alpha_equivalent  its inverse: the alpha that a beta stands for, D / (beta RMSE)

Notebook: notebooks/03_vae_theory.ipynb
"""

from __future__ import annotations

import math

from ..errors import AudiogenError


def _check(rmse: float, n_pixels: int, weight: float, name: str) -> None:
    if not rmse > 0:
        raise AudiogenError(f"rmse must be positive, got {rmse}")
    if not n_pixels > 0:
        raise AudiogenError(f"n_pixels must be positive, got {n_pixels}")
    if not weight > 0:
        raise AudiogenError(f"{name} must be positive, got {weight}")


def decoder_sigma(alpha: float, rmse: float, n_pixels: int) -> float:
    """The noise sigma_x of the Gaussian decoder whose ELBO trades MSE for KL as ``alpha * RMSE + KL`` does.

    >>> round(decoder_sigma(1e6, 0.04, 256 * 64), 4)
    0.0256
    """
    _check(rmse, n_pixels, alpha, "alpha")
    return math.sqrt(n_pixels * rmse / alpha)


def beta_equivalent(alpha: float, rmse: float, n_pixels: int) -> float:
    """The KL weight beta of ``D MSE / (2 RMSE^2) + beta KL`` (sigma_x = RMSE) with the same balance.

    >>> round(beta_equivalent(1e6, 0.04, 256 * 64), 3)
    0.41
    """
    _check(rmse, n_pixels, alpha, "alpha")
    return n_pixels / (alpha * rmse)


def alpha_equivalent(beta: float, rmse: float, n_pixels: int) -> float:
    """The alpha of ``alpha * RMSE + KL`` with the balance of a beta-weighted ELBO at this RMSE."""
    _check(rmse, n_pixels, beta, "beta")
    return n_pixels / (beta * rmse)
