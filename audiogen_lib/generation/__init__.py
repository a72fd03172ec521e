"""New spoken digits from a VAE: a density on its latent codes, decoding, sound, and how to judge the result.

Sampling z ~ N(0, I) assumes the encoder's codes fill the prior. The study's VAE
(alpha = 10^6) leaves them elsewhere, so its prior samples decode to a few digits only.
Ghosh et al. (ICLR 2020, "From variational to deterministic autoencoders") fit a
density to the training codes *after* training ("ex-post density estimation") and
sample that instead: this module does so for any VAE of the library.

- ``"prior"``: N(0, I), what the VAE's objective assumes;
- ``"gaussian"``: one full-covariance Gaussian fitted to the training codes (mu);
- ``"gmm"``: a Gaussian mixture (scikit-learn's ``GaussianMixture``) fitted to them, its
  number of components and covariance type chosen by the **held-out log-likelihood of
  the validation codes** (:func:`choose_gmm`; of the settings within noise of the best, the
  one with the fewest parameters). That is the criterion that measures what a density is
  for (where the codes of unseen clips of the same population fall) and the only one that
  reads the validation split; the inception score of decoded samples would read no
  validation data at all, and it rewards a mixture that memorises the training codes
  (more, narrower components sit on training clips, which the judge recognises easily),
  which the held-out likelihood punishes (30 full components: -6,500 nats per code).

A conditional VAE (``cvae``) gets one density per digit, fitted to that digit's codes (the
prior is N(0, I) with the digit's one-hot). An unconditional VAE asked for a digit samples
by **rejection**: it draws, keeps the sounds the classifier hears as that digit, and says
how many it drew (:func:`generate`), so the digit is what the judge hears, not something the
model was told.

Every latent is decoded to an image, read in the ``top_db``-wide dB range of
:func:`db_range` (the model card's ``normalisation.generation_db_range``), and turned into
sound by the library's default phase reconstruction (:func:`audiogen_lib.reconstruction.latents_to_audio`).

Public names
------------
By module; each module's docstring says what each name is.

densities       SAMPLERS, GMM_GRID, gmm_grid_for, LatentDensity, LatentSampler, fit_sampler, n_parameters, choose_gmm
decoding        encode_means, decode, db_range, decode_audio, morph_digit, generate, Generated
sampler_choice  choose_sampler, sampler_for (cached per model)
scoring         classifier_embedding, evaluate_samplers; frechet_distance (from :mod:`audiogen_lib.metrics`)
judged_scores   LOWDIM_COMPONENTS, judge_set, summarise_sets, real_embeddings, real_reference, floors, differences
outputs         check_output_folder, write_samples
command         MODEL_KINDS, load_generator, default_model, validation_choice, model_record, provenance, run_generate,
                check_evaluate, run_evaluate

``audiogen generate`` runs :func:`run_generate`; ``audiogen generate --evaluate`` runs :func:`run_evaluate`
(results/sampling_paper.json: ``audiogen generate --evaluate results/sampling_paper.json --model vae --config
paper --n 300 --seed 0 --profile book``).

Notebook: notebooks/10_generation.ipynb
"""

from ..metrics import frechet_distance
from .command import (MODEL_KINDS, check_evaluate, default_model, load_generator, model_record, provenance, run_evaluate,
                      run_generate, shipped_generators, validation_choice)
from .decoding import (REJECTION_BATCH, REJECTION_MAX_DRAWS_PER_SOUND, Generated, _n_classes, _onehot,
                       _probabilities, db_range, decode, decode_audio, encode_means, generate, morph_digit)
from .densities import (GMM_GRID, GMM_REG_COVAR, N_DIGITS, SAMPLERS, SMOKE_GMM_GRID, LatentDensity, LatentSampler,
                        gmm_grid_for,
                        _check_digit, choose_gmm, fit_sampler, n_parameters)
from .outputs import check_output_folder, write_samples
from .sampler_choice import _codes, choose_sampler, sampler_for
from .judged_scores import LOWDIM_COMPONENTS
from .scoring import _disjoint_subsets, _draw, _softmax_layer, classifier_embedding, evaluate_samplers
