"""The study's loss read as an ELBO (audiogen_lib/models/objective.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audiogen_lib.errors import AudiogenError
from audiogen_lib.models import objective

D = 256 * 64


def test_slopes_match_at_the_trained_error():
    alpha, rmse = 1e6, 0.038
    sigma_x = objective.decoder_sigma(alpha, rmse, D)
    mse, h = rmse**2, 1e-9
    study = (alpha * math.sqrt(mse + h) - alpha * math.sqrt(mse - h)) / (2 * h)
    gaussian = D / (2 * sigma_x**2)
    assert study == pytest.approx(gaussian, rel=1e-6)


def test_beta_and_alpha_are_inverses():
    for beta in (0.1, 0.43, 1.0, 30.0):
        alpha = objective.alpha_equivalent(beta, 0.05, D)
        assert objective.beta_equivalent(alpha, 0.05, D) == pytest.approx(beta)


def test_beta_is_the_ratio_of_the_decoders():
    # sigma_x = RMSE against the decoder the loss stands for: beta = (sigma_x / RMSE)^2
    rmse = 0.038
    sigma_x = objective.decoder_sigma(1e6, rmse, D)
    assert objective.beta_equivalent(1e6, rmse, D) == pytest.approx((sigma_x / rmse) ** 2)


def test_the_toy_optimum_is_the_same_for_both_losses():
    # one latent dimension, D pixels moved by g each: E MSE = g^2 s^2 + r^2
    g, r, alpha = 0.005, 0.038, 1e6
    log_s2 = np.linspace(-20, 1, 200_001)
    s2 = np.exp(log_s2)
    kl = 0.5 * (s2 - log_s2)
    rmse = np.sqrt(g**2 * s2 + r**2)
    study = alpha * rmse + kl
    best = np.argmin(study)
    sigma_x = objective.decoder_sigma(alpha, rmse[best], D)
    elbo = D * rmse**2 / (2 * sigma_x**2) + kl
    assert abs(log_s2[np.argmin(elbo)] - log_s2[best]) < 1e-3


@pytest.mark.parametrize("args", [(0, 0.1, D), (1.0, 0, D), (1.0, 0.1, 0)])
def test_refuses_non_positive(args):
    with pytest.raises(AudiogenError):
        objective.beta_equivalent(*args)
