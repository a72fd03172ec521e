"""The study's experiments, measured with their uncertainty: reconstruction, robustness, convergence,
the skip-connection ablation and generation; and the verdict on each claim.

Every table has references that bound it: the original audio (the best any row can
be), the phase reconstruction on the true magnitude (the ceiling of any magnitude-only
model) and the zero-phase inverse STFT the study's code used (the floor). Every
headline number carries a 95% interval (:mod:`audiogen_lib.stats`): a bootstrap over
the test clips for one set of models, the spread over training seeds where several
were trained. Choices (a model's best epoch, its plateau) are made on the validation
split (takes 5-9); the test split (takes 0-4) gives the final scores only.

Public names
------------
By module; each module's docstring says what each name is.

study_models    MODEL_NAMES, get_models, reconstruct, pca_reconstruct
audio           phase_method, images_to_audio, score_audio, summary_key, reference_audio
reconstruction  (a) and (d): experiment_reconstruction, vae_images, experiment_vae_reconstruction,
                judge_reconstructions
robustness      (b): READINGS, perturb_db, perturb_features, experiment_robustness
convergence     (c): PLATEAU_FRACTION, epochs_to_plateau, is_censored, experiment_convergence, convergence_verdict
generation      generation_db_range, latent_statistics, decode_to_audio, interpolate, experiment_generation
claims          CLAIMS, GENERATION_IS_THRESHOLD, EQUIVALENCE_MARGIN_PESQ, comparisons, claim_estimates, verdicts,
                clip_speakers, speaker_check
cache           result_key, cached
results         measure, seed_summary, listening_file, read_listening, listen

Everything here returns data (dicts of numbers and arrays); the labels, tables and files
are :mod:`audiogen_lib.report`'s. ``audiogen_lib.report.reproduce`` runs everything and
writes ``results/``. Long loops show :func:`audiogen_lib.runtime.progress` from their first
second: phase reconstruction per condition and chunk of clips, scoring per condition.

Notebook: notebooks/09_listening_experiments.ipynb
"""

from .audio import (CHUNK, _audio_in_chunks, _ci, _reference_methods, _rmse_of, _summarise, images_to_audio,
                    phase_method, reference_audio, score_audio, summary_key)
from .cache import RESULTS_VERSION, _code_version, _jsonable, _source_hash, cached, result_key
from .claims import (CLAIMS, COMPARED, EQUIVALENCE_MARGIN_PESQ, GENERATION_IS_THRESHOLD, claim_estimates, clip_speakers,
                     comparisons, speaker_check, verdicts, verdicts_by_judges)
from .convergence import (ABOUT, PLATEAU_FRACTION, STUDY_EPOCHS, chosen_on, convergence_row, convergence_verdict,
                          epochs_to_plateau, experiment_convergence, is_censored)
from .generation import (decode_to_audio, experiment_generation, generation_db_range, interpolate,
                         latent_statistics)
from .reconstruction import (RECONSTRUCTION_GOALS, experiment_reconstruction, experiment_vae_reconstruction,
                             judge_reconstructions, vae_images)
from .results import listen, listening_file, measure, read_listening, seed_summary
from .robustness import READINGS, experiment_robustness, perturb_db, perturb_features
from .study_models import (MODEL_NAMES, PCA_COMPONENTS, _model_record, _shipped_is_this_run, _trained_dir,
                           get_models, pca_reconstruct, reconstruct)
