"""DNSMOS: voxlab's pipeline equals speechmos's and ranks clean above noisy speech."""

import pytest

from voxlab.errors import AudioError
from voxlab.quality.dnsmos import dnsmos

pytestmark = pytest.mark.usefixtures("needs_dnsmos")


@pytest.mark.slow
def test_matches_speechmos(speech, noisy):
    pytest.importorskip("librosa")
    from speechmos import dnsmos as official

    for audio in (speech["male"], noisy):
        ours = dnsmos(audio, 16_000)
        ref = official.run(audio, 16_000)
        # P.835 network input is the raw waveform: identical to float64 round-off.
        assert ours.sig == pytest.approx(ref["sig_mos"], abs=1e-6)
        assert ours.bak == pytest.approx(ref["bak_mos"], abs=1e-6)
        assert ours.ovrl == pytest.approx(ref["ovrl_mos"], abs=1e-6)
        # P.808 input: log-mel (our STFT/filterbank vs librosa, float32): 1e-3 MOS.
        assert ours.p808 == pytest.approx(float(ref["p808_mos"]), abs=1e-3)


def test_clean_ranks_above_noisy(speech, noisy):
    clean, dirty = dnsmos(speech["male"]), dnsmos(noisy)
    assert clean.ovrl > dirty.ovrl + 0.5
    assert clean.bak > dirty.bak + 1.0
    for value in (clean.sig, clean.bak, clean.ovrl, clean.p808):
        assert 1.0 <= value <= 5.0


def test_wrong_rate_is_refused(speech):
    with pytest.raises(AudioError, match="16 kHz"):
        dnsmos(speech["male"], 22_050)
