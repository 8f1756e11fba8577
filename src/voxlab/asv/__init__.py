"""Offline automatic speaker verification (ASV), so t-DCF can be computed on voxlab corpora."""

from voxlab.asv.encoder import ENCODERS, GE2EEncoder, embed, embed_ge2e, embed_mfcc
from voxlab.asv.scoring import read_asv_protocols, score_corpus, score_trials

__all__ = [
    "ENCODERS",
    "GE2EEncoder",
    "embed",
    "embed_ge2e",
    "embed_mfcc",
    "read_asv_protocols",
    "score_corpus",
    "score_trials",
]
