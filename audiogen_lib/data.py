"""The Free Spoken Digit Dataset (FSDD) v1.0.10: locate, download, verify, list, split.

3,000 mono 16-bit wavs at 8 kHz: 6 speakers x 10 digits x 50 takes, named
``{digit}_{speaker}_{take}.wav``. Licence CC BY-SA 4.0; credit Zohar Jackson et al.,
"Free Spoken Digit Dataset", Zenodo, doi:10.5281/zenodo.1342401.

Public names
------------
locate_fsdd       the folder of recordings: explicit path, ``$AUDIOGEN_FSDD``, default folder, or download
download_fsdd     fetch the v1.0.10 archive with pooch (its sha256 pinned), unpack it, verify every file
verify_fsdd       check every recording against the sha256 manifest shipped in the package
list_recordings   the recordings of a split, parsed from their names
parse_name        ``"7_jackson_32.wav"`` -> ``(7, "jackson", 32)``
manifest          ``{file name: sha256}`` of the 3,000 recordings
manifest_hash     a short hash of that manifest (part of every cache key)
speakers          each speaker's gender, accent and language

The official split: takes 0-4 are the test set (300 files), takes 5-49 the training set (2,700).
We carve a validation split out of the training takes: takes 5-9 (300 files) choose every
early stop, checkpoint, threshold and hyperparameter; takes 10-49 (2,400 files) train; the
test split gives final scores only.

Notebook: notebooks/05_data_pipeline.ipynb
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import AudiogenError

FSDD_VERSION = "1.0.10"
FSDD_URL = f"https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v{FSDD_VERSION}.zip"
# sha256 of that archive (16,419,872 bytes; tag v1.0.10 = commit d6938f9bf1545aa66d8489fc9f1385a7abd64282).
# GitHub builds it with `git archive --format=zip`, whose file times are local time on GitHub's servers
# (US Pacific): `TZ=America/Los_Angeles git archive --format=zip --prefix=free-spoken-digit-dataset-1.0.10/
# v1.0.10 | sha256sum` in a clone gives the same hash as the download.
FSDD_ARCHIVE_SHA256 = "c680098f5d2355ba7cc4bd8b0ca9e0a24c00ebe3b4c552208889a4d28d4fbc2b"
FSDD_ENV = "AUDIOGEN_FSDD"
FSDD_CITATION = (
    'Zohar Jackson, César Souza, Jason Flaks, Yuxin Pan, Hereman Nicolas and Adhish Thite, '
    '"Jakobovski/free-spoken-digit-dataset: v1.0.10", Zenodo, doi:10.5281/zenodo.1342401. '
    "Licence: CC BY-SA 4.0."
)
N_TEST_TAKES = 5  # takes 0-4 are the official test split: final scores only
N_VALIDATION_TAKES = 5  # takes 5-9, carved from the official training takes: every choice is made here
SPLITS = ("train", "validation", "test", "all")
SPLIT_TAKES = {"test": (0, N_TEST_TAKES), "validation": (N_TEST_TAKES, N_TEST_TAKES + N_VALIDATION_TAKES),
               "train": (N_TEST_TAKES + N_VALIDATION_TAKES, 50)}
_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


@dataclass(frozen=True)
class Recording:
    """One FSDD file and what its name says."""

    name: str
    digit: int
    speaker: str
    take: int

    @property
    def split(self) -> str:
        """``"test"`` (takes 0-4), ``"validation"`` (takes 5-9) or ``"train"`` (takes 10-49)."""
        if self.take < N_TEST_TAKES:
            return "test"
        return "validation" if self.take < N_TEST_TAKES + N_VALIDATION_TAKES else "train"


def parse_name(name: str) -> tuple[int, str, int]:
    """Digit, speaker and take from an FSDD file name such as ``"7_jackson_32.wav"``."""
    m = _NAME.match(os.path.basename(name))
    if not m:
        raise AudiogenError(
            f"{name!r} is not an FSDD file name; expected '{{digit}}_{{speaker}}_{{take}}.wav', e.g. '7_jackson_32.wav'"
        )
    return int(m.group(1)), m.group(2), int(m.group(3))


@functools.cache
def manifest() -> dict[str, str]:
    """``{file name: sha256}`` for the 3,000 recordings, shipped with the package."""
    text = resources.files(__package__).joinpath("fsdd_sha256.txt").read_text()
    out = {}
    for line in text.splitlines():
        digest, path = line.split()
        out[os.path.basename(path)] = digest
    return out


def manifest_hash() -> str:
    """A short hash of the manifest: changes if the data the library expects changes."""
    blob = "".join(f"{k} {v}\n" for k, v in sorted(manifest().items()))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@functools.cache
def speakers() -> dict[str, dict]:
    """Each speaker's gender, accent and language, from the dataset's metadata."""
    return json.loads(resources.files(__package__).joinpath("fsdd_speakers.json").read_text())


def list_recordings(split: str = "all") -> list[Recording]:
    """The recordings of ``split`` (``"train"``, ``"validation"``, ``"test"`` or ``"all"``), sorted by digit, speaker, take.

    The list comes from the shipped manifest, so it needs no data on disk.
    """
    if split not in SPLITS:
        raise AudiogenError(f"unknown split {split!r}; use one of {SPLITS}")
    recs = [Recording(name, *parse_name(name)) for name in manifest()]
    recs.sort(key=lambda r: (r.digit, r.speaker, r.take))
    return [r for r in recs if split == "all" or r.split == split]


def default_data_dir() -> Path:
    """Where downloads go: ``$XDG_CACHE_HOME/audiogen`` (``~/.cache/audiogen``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "audiogen" / f"fsdd-{FSDD_VERSION}"


def _recordings_dir(path: str | os.PathLike) -> Path:
    """Accept the dataset root (holding ``recordings/``) or the recordings folder itself."""
    path = Path(path).expanduser()
    return path / "recordings" if (path / "recordings").is_dir() else path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_fsdd(path: str | os.PathLike, *, expected: dict[str, str] | None = None) -> Path:
    """Check every recording in ``path`` against the sha256 manifest; return the recordings folder.

    Raises :class:`AudiogenError` naming the first missing or altered file.
    """
    expected = manifest() if expected is None else expected
    rec_dir = _recordings_dir(path)
    if not rec_dir.is_dir():
        raise AudiogenError(
            f"FSDD folder {rec_dir} does not exist; pass the folder holding the FSDD v{FSDD_VERSION} "
            f"recordings, set ${FSDD_ENV} to it, or leave both unset to download the data"
        )
    present = {p.name for p in rec_dir.glob("*.wav")}
    if not present:
        raise AudiogenError(
            f"FSDD folder {rec_dir} holds no .wav files; point ${FSDD_ENV} at the folder that holds "
            f"'recordings/' (or the recordings themselves), or delete it to download the data again"
        )
    missing = sorted(set(expected) - present)
    if missing:
        raise AudiogenError(
            f"FSDD folder {rec_dir} lacks {len(missing)} of the {len(expected)} recordings "
            f"(first: {missing[0]}); it is not a complete FSDD v{FSDD_VERSION}: delete it and download again"
        )
    for name, digest in sorted(expected.items()):
        if _sha256(rec_dir / name) != digest:
            raise AudiogenError(
                f"checksum mismatch for {rec_dir / name}: the file differs from FSDD v{FSDD_VERSION}; "
                f"delete the folder {rec_dir} and let the library download it again"
            )
    return rec_dir


def locate_fsdd(path: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """The verified folder of FSDD recordings.

    Looks, in order, at ``path``, at ``$AUDIOGEN_FSDD``, and at :func:`default_data_dir`;
    if none is given and the default folder is empty, downloads the data there
    (``download=False`` raises instead).
    """
    for source, candidate in (("path", path), (f"${FSDD_ENV}", os.environ.get(FSDD_ENV) or None)):
        if candidate is not None:
            try:
                return verify_fsdd(candidate)
            except AudiogenError as err:
                raise AudiogenError(f"FSDD given by {source} ({candidate}): {err}") from None
    default = default_data_dir()
    if (default / "recordings").is_dir():
        return verify_fsdd(default)
    if not download:
        raise AudiogenError(
            f"no FSDD data found: pass a path, set ${FSDD_ENV}, or allow the download to {default}"
        )
    return download_fsdd(default)


def download_fsdd(dest: str | os.PathLike, *, url: str = FSDD_URL, known_hash: str | None = FSDD_ARCHIVE_SHA256,
                  expected: dict[str, str] | None = None) -> Path:
    """Download the FSDD archive from ``url`` into ``dest``: pooch fetches it, checks its sha256
    (``known_hash``; ``None`` skips that check) and unpacks its ``recordings/``; then every
    recording is verified against the manifest.

    The archive goes to a temporary folder next to ``dest``; only a fully extracted and
    verified set of recordings is moved to ``dest/recordings``, so an interrupted, altered
    or corrupt download leaves nothing behind.
    """
    import zipfile

    import pooch

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    final = dest / "recordings"
    members = [f"free-spoken-digit-dataset-{FSDD_VERSION}/recordings"]
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        try:
            files = pooch.retrieve(url, known_hash=known_hash and f"sha256:{known_hash}", fname="fsdd.zip", path=tmp,
                                   processor=pooch.Unzip(members=members, extract_dir="unpacked"),
                                   progressbar=True)
        except (zipfile.BadZipFile, EOFError) as err:
            raise AudiogenError(
                f"the archive downloaded from {url} is damaged ({err}); nothing was kept, try again") from err
        except ValueError as err:
            if "hash" not in str(err).lower():
                raise
            raise AudiogenError(
                f"the archive downloaded from {url} is not the FSDD v{FSDD_VERSION} release this library pins "
                f"({err}); nothing was kept. Try again; if it persists, download the release yourself and "
                f"set ${FSDD_ENV} to it") from err
        except Exception as err:  # network errors come in many types
            raise AudiogenError(
                f"download of FSDD from {url} failed ({type(err).__name__}: {err}); nothing was kept. "
                f"Check the connection and try again, or set ${FSDD_ENV} to a local copy"
            ) from err
        staging = Path(tmp) / "recordings"
        staging.mkdir()
        for path in map(Path, files):
            if path.suffix == ".wav" and path.parent.name == "recordings":
                os.replace(path, staging / path.name)
        verify_fsdd(staging, expected=expected)
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    return final
