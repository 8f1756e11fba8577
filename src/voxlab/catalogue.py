"""The catalogue of countermeasure checkpoints: what each is, where it comes from, how well.

Every entry names a registry architecture, the authors' file (a plain PyTorch state dict in
their key layout, loaded through :mod:`voxlab.models.checkpoints` adapters), its public
URL, sha256, licence, training data and published results, and the verdict threshold
voxlab uses on its score. This module is data only (no torch, no network), so commands
that only need names or defaults import it cheaply; lookup, download and loading live in
:mod:`voxlab.pretrained`.

**Scores and thresholds.** A model outputs logits ``[spoof, bona fide]``; the score is the
bona fide logit (ASVspoof convention: higher = more bona fide). ``threshold`` is a value on
that score: ``score >= threshold`` means "bona fide". Where published scores exist
(RawGAT-ST add) it is the equal-error-rate threshold on the ASVspoof 2019 LA evaluation
set, computed by voxlab's metrics from the authors' score file. Otherwise it is 0.0: the
heads are trained with two-class cross-entropy and their logits are close to antisymmetric
(``spoof ≈ -bona fide``), so ``bona fide logit >= 0`` reproduces the arg-max decision of
the classifier. Either is the operating point of the model's ASVspoof data, not a
calibrated decision for other audio: fit a calibration on your own labelled development
scores with ``voxlab calibrate`` (:mod:`voxlab.evaluation.calibration`); ``voxlab detect``
then reports calibrated probabilities and Bayes verdicts, and uses a calibration stored
beside the checkpoint as ``<stem>.calibration.json`` automatically.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Origin of the authors' repositories (``$VOXLAB_DOWNLOAD_BASE`` replaces it for mirrors).
GITHUB = "https://github.com"
#: URL scheme of weights shipped in the package: ``package:<module>/<path inside it>``.
PACKAGE_SCHEME = "package:"


@dataclass(frozen=True)
class PretrainedEntry:
    """One published checkpoint.

    Attributes:
        name: Catalogue name (``voxlab detect --model NAME``).
        model: Registry architecture name (:func:`voxlab.models.registry.build_model`).
        filename: Local file name in the model directory / cache.
        url: Public download URL (GitHub raw URL of the authors' repository).
        sha256: Checksum of the file at ``url``.
        license: Licence of the weights.
        training_data: What the model was trained on.
        reported: Published results, as stated by the authors.
        eer_percent: Published EER in percent on ``reported``'s evaluation set (``None``
            for local entries).
        min_tdcf: Published min t-DCF (ASVspoof 2019 definition), or ``None``.
        threshold: Verdict threshold on the score (bona fide logit).
        threshold_source: How ``threshold`` was obtained.
        source: ``owner/repo : path`` of the file.
        size: Size of the checkpoint (parameters and bytes), as far as it is known.
        ssl_config: Front-end config JSON for SSL models that cannot be sized from their
            shapes (local entries only; the published ones can).
        trained_on_voxlab_wild: Whether the model was trained on voxlab-wild, so that its
            tables on that corpus are in-domain results, not generalisation.
    """

    name: str
    model: str
    filename: str
    url: str
    sha256: str
    license: str
    training_data: str
    reported: str
    eer_percent: float | None
    min_tdcf: float | None
    threshold: float
    threshold_source: str
    source: str
    size: str = ""
    ssl_config: str | None = None
    trained_on_voxlab_wild: bool = False

    @property
    def is_local(self) -> bool:
        """Whether this entry is a file registered with :func:`add_local`."""
        return self.url.startswith("file://")

    @property
    def is_packaged(self) -> bool:
        """Whether the weights ship inside the voxlab package (nothing to download)."""
        return self.url.startswith(PACKAGE_SCHEME)


_ARGMAX = "0.0 = arg-max of the two-class head (its logits are near-antisymmetric); not calibrated"
_TAK_DRIVE = "https://drive.google.com/drive/folders/1c4ywztEVlYVijfwbGLl9OEa1SNtFKppB"
_SLS_DRIVE = "https://drive.google.com/drive/folders/13vw_AX1jHdYndRu1edlgpdNJpCX8OnrH"
_SSL_AASIST_SIZE = (
    "317.8M parameters (XLS-R 300M + 447k back end), about 1.27 GB in float32; 674 tensors"
)
_NO_SHA = "not published (Google Drive folder); download by hand"
# voxlab-wild: voxlab's own AASIST-L fine-tune, shipped in the package (docs/models/voxlab-wild.md).
VOXLAB_WILD_SHA256 = "2fd56854d017f457280a702600b4d95f3a886539b92d701d8f4105992662ad05"
VOXLAB_WILD_EER = 35.6
VOXLAB_WILD_REPORTED = (
    "voxlab-wild eval (held-out speakers, sources and systems; benchmarks/wild_table.py): EER "
    "35.6 %, min DCF 0.762, calibrated actDCF 0.792 (published AASIST: 34.5 %, 0.797, 0.946)"
)

PRETRAINED: dict[str, PretrainedEntry] = {
    e.name: e
    for e in (
        PretrainedEntry(
            name="aasist",
            model="aasist",
            filename="aasist.pth",
            url=f"{GITHUB}/clovaai/aasist/raw/main/models/weights/AASIST.pth",
            sha256="51d2d9cf0738172f61e2a384ec50a54a55363240f67c971ed55a92435bc1a1c0",
            license="MIT",
            training_data="ASVspoof 2019 LA train",
            reported="ASVspoof 2019 LA eval: EER 0.83 %, min t-DCF 0.0275",
            eer_percent=0.83,
            min_tdcf=0.0275,
            threshold=0.0,
            threshold_source=_ARGMAX,
            source="clovaai/aasist : models/weights/AASIST.pth",
        ),
        PretrainedEntry(
            name="aasist-l",
            model="aasist-l",
            filename="aasist_l.pth",
            url=f"{GITHUB}/clovaai/aasist/raw/main/models/weights/AASIST-L.pth",
            sha256="814331d088032bb4c3fa61cc014789eadeed464209dd094ab3a2dd6ffbdce27a",
            license="MIT",
            training_data="ASVspoof 2019 LA train",
            reported="ASVspoof 2019 LA eval: EER 0.99 %, min t-DCF 0.0309",
            eer_percent=0.99,
            min_tdcf=0.0309,
            threshold=0.0,
            threshold_source=_ARGMAX,
            source="clovaai/aasist : models/weights/AASIST-L.pth",
        ),
        PretrainedEntry(
            name="aasist-asvspoof5",
            model="aasist",
            filename="aasist_asvspoof5.pth",
            url=(
                f"{GITHUB}/asvspoof-challenge/asvspoof5/raw/main/"
                "Baseline-AASIST/models/weights/AASIST/best.pth"
            ),
            sha256="8f10fe1d1ce3ac62c19f00b86dfaf79f86f464301d23e08726b16b02edbb601c",
            license="MIT",
            training_data="ASVspoof 5 train",
            reported="ASVspoof 5 dev: EER 15.2 % (challenge baseline)",
            eer_percent=15.2,
            min_tdcf=None,
            threshold=0.0,
            threshold_source=_ARGMAX,
            source="asvspoof-challenge/asvspoof5 : Baseline-AASIST/models/weights/AASIST/best.pth",
        ),
        PretrainedEntry(
            name="rawgat-st",
            model="rawgat-st",
            filename="rawgat_st_mul.pth",
            url=(
                f"{GITHUB}/eurecom-asp/RawGAT-ST-antispoofing/raw/main/"
                "Pre_trained_models/RawGAT_ST_mul/Best_epoch.pth"
            ),
            sha256="8a91ce8201d42119cbfb9ebca8850e5914f1a85959b3ca962819783738c2a9e2",
            license="MIT",
            training_data="ASVspoof 2019 LA train",
            reported="ASVspoof 2019 LA eval: EER 1.06 %, min t-DCF 0.0335 (mul fusion)",
            eer_percent=1.06,
            min_tdcf=0.0335,
            threshold=0.0,
            threshold_source=_ARGMAX,
            source=(
                "eurecom-asp/RawGAT-ST-antispoofing : "
                "Pre_trained_models/RawGAT_ST_mul/Best_epoch.pth"
            ),
        ),
        PretrainedEntry(
            name="rawgat-st-add",
            model="rawgat-st-add",
            filename="rawgat_st_add.pth",
            url=(
                f"{GITHUB}/eurecom-asp/RawGAT-ST-antispoofing/raw/main/"
                "Pre_trained_models/RawGAT_ST_add/Best_epoch.pth"
            ),
            sha256="0b59dd135194db79815cc1f05203f83f59a38d9ad7ce64a20f1c69d4d285fcc9",
            license="MIT",
            training_data="ASVspoof 2019 LA train",
            reported="ASVspoof 2019 LA eval: EER 1.16 %, min t-DCF 0.0374 (add fusion)",
            eer_percent=1.16,
            min_tdcf=0.0374,
            threshold=1.745120882987976,
            threshold_source=(
                "EER threshold on the authors' published ASVspoof 2019 LA eval scores "
                "(EER 1.1586 %); calibrated on that evaluation set, not on your data"
            ),
            source=(
                "eurecom-asp/RawGAT-ST-antispoofing : "
                "Pre_trained_models/RawGAT_ST_add/Best_epoch.pth"
            ),
        ),
        PretrainedEntry(
            name="ssl-aasist-la",
            model="ssl-aasist",
            filename="best_SSL_model_LA.pth",
            url=_TAK_DRIVE,
            sha256="",
            license="MIT (code repository); XLS-R 300M front end: Apache-2.0 (fairseq)",
            training_data="ASVspoof 2019 LA train (RawBoost augmentation)",
            reported="ASVspoof 2021 LA eval: EER 0.82 %, min t-DCF 0.2066 (2021 LA definition)",
            eer_percent=0.82,
            min_tdcf=None,
            threshold=0.0,
            threshold_source=_ARGMAX,
            source=(
                "TakHemlata/SSL_Anti-spoofing : README.md (Google Drive folder of pre-trained "
                f"models; sha256 {_NO_SHA}); keys without prefix (main_SSL_LA.py)"
            ),
            size=_SSL_AASIST_SIZE,
        ),
        PretrainedEntry(
            name="ssl-aasist-df",
            model="ssl-aasist",
            filename="best_SSL_model_DF.pth",
            url=_TAK_DRIVE,
            sha256="",
            license="MIT (code repository); XLS-R 300M front end: Apache-2.0 (fairseq)",
            training_data="ASVspoof 2019 LA train (RawBoost augmentation)",
            reported="ASVspoof 2021 DF eval: EER 2.85 %",
            eer_percent=2.85,
            min_tdcf=None,
            threshold=0.0,
            threshold_source=_ARGMAX,
            source=(
                "TakHemlata/SSL_Anti-spoofing : README.md (Google Drive folder of pre-trained "
                f"models; sha256 {_NO_SHA}); keys prefixed 'module.' (main_SSL_DF.py)"
            ),
            size=_SSL_AASIST_SIZE,
        ),
        PretrainedEntry(
            name="xlsr-sls-df",
            model="xlsr-sls",
            filename="xlsr_sls_df.pth",
            url=_SLS_DRIVE,
            sha256="",
            license=(
                "not stated (the repository has no LICENSE file); XLS-R 300M front end: "
                "Apache-2.0 (fairseq)"
            ),
            training_data="ASVspoof 2019 LA train",
            reported=(
                "ASVspoof 2021 DF eval: EER 1.92 %; ASVspoof 2021 LA eval: EER 2.87 %; "
                "In-the-Wild: EER 7.46 %"
            ),
            eer_percent=1.92,
            min_tdcf=None,
            threshold=-0.6931471805599453,
            threshold_source=(
                "log(1/2): the score is the bona fide log-probability, so this is the "
                "arg-max decision; not calibrated"
            ),
            source=(
                "QiShanZhang/SLSforASVspoof-2021-DF : README.md (Google Drive folder; sha256 "
                f"{_NO_SHA}); keys prefixed 'module.' (main.py)"
            ),
            size="340.8M parameters (XLS-R 300M + SLS head, fc1 alone 23.4M), about 1.36 GB",
        ),
        PretrainedEntry(
            name="voxlab-wild",
            model="aasist-l",
            filename="voxlab_wild.safetensors",
            url=f"{PACKAGE_SCHEME}voxlab.models/weights/voxlab_wild.safetensors",
            sha256=VOXLAB_WILD_SHA256,
            license=(
                "MIT (voxlab's fine-tune of the MIT AASIST-L weights); training audio under "
                "BSD-like, CC-BY-3.0, GPL-2 and BSD-2 licences: see docs/models/voxlab-wild.md"
            ),
            training_data=(
                "voxlab-wild train split (`voxlab corpus make --wild --per-speaker 40 --seed "
                "0`): real human speech from Debian packages against copy-synthesis, voice "
                "conversion and TTS of it, RawBoost + channel augmentation"
            ),
            reported=VOXLAB_WILD_REPORTED,
            eer_percent=VOXLAB_WILD_EER,
            min_tdcf=None,
            threshold=0.0,
            threshold_source=(
                "0.0 = arg-max of the two-class head; voxlab detect uses the calibration that "
                "ships beside the weights (fitted on voxlab-wild dev, Pspoof 0.05) instead"
            ),
            source="voxlab : recipes/wild/aasist-l.yaml (`voxlab train`, see the model card)",
            size="85,034 parameters, 361 KB (safetensors, float32)",
            trained_on_voxlab_wild=True,
        ),
    )
}


#: The model of ``voxlab detect``, ``voxlab scan`` and ``voxlab serve`` when none is named:
#: voxlab-wild (ships in the package, calibrated, trained on real human speech). The
#: published ASVspoof models stay one ``--model`` away for ASVspoof work.
DEFAULT_MODEL = "voxlab-wild"
