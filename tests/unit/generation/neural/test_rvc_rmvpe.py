"""RMVPE (user-supplied ``rmvpe.pt``): official layout, front end, decoding, strict loading.

No RMVPE weights exist offline, so the network's numbers cannot be compared with the
official code here; the tests check what can be checked exactly: the official key names
and shapes of ``E2E(4, 1, (2, 2))``, the log-mel front end against librosa (atol 1e-4),
the salience decoding against its definition, and strict loading of a saved state dict.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voxlab.errors import CheckpointError, ConfigError
from voxlab.generation.neural.rvc.rmvpe import RMVPE, load_rmvpe, salience_to_f0

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_default_network_has_the_official_layout():
    with torch.device("meta"):
        state = RMVPE().state_dict()
    expected = {
        "unet.encoder.bn.running_var": (1,),
        "unet.encoder.layers.0.conv.0.conv.0.weight": (16, 1, 3, 3),
        "unet.encoder.layers.0.conv.0.shortcut.weight": (16, 1, 1, 1),
        "unet.encoder.layers.4.conv.3.conv.4.weight": (256,),
        "unet.intermediate.layers.0.conv.0.shortcut.weight": (512, 256, 1, 1),
        "unet.intermediate.layers.3.conv.3.conv.3.weight": (512, 512, 3, 3),
        "unet.decoder.layers.0.conv1.0.weight": (512, 256, 3, 3),
        "unet.decoder.layers.0.conv2.0.shortcut.weight": (256, 512, 1, 1),
        "unet.decoder.layers.4.conv2.3.conv.3.weight": (16, 16, 3, 3),
        "cnn.weight": (3, 16, 3, 3),
        "fc.0.gru.weight_ih_l0": (768, 384),
        "fc.0.gru.weight_hh_l0_reverse": (768, 256),
        "fc.1.weight": (360, 512),
    }
    for key, shape in expected.items():
        assert tuple(state[key].shape) == shape, key
    assert "unet.encoder.layers.0.conv.1.shortcut.weight" not in state  # same widths
    assert not any("mel_basis" in k or "window" in k for k in state)


def test_log_mel_front_end_matches_librosa():
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(8000)).astype(np.float32)
    model = RMVPE(1, 1, n_layers=1, inter_layers=1, channels=2)
    got = model.mel(torch.from_numpy(audio)[None])[0].numpy()
    spec = np.abs(librosa.stft(audio, n_fft=1024, hop_length=160, win_length=1024,
                               window="hann", center=True, pad_mode="reflect"))  # fmt: skip
    basis = librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128, fmin=30, fmax=8000, htk=True)
    expected = np.log(np.maximum(basis @ spec, 1e-5))
    assert got.shape == (128, 8000 // 160 + 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def test_salience_decoding():
    salience = np.zeros((3, 360))
    salience[0, 99:102] = [0.5, 1.0, 0.5]  # symmetric bump: exactly bin 100
    salience[1, 200] = 0.03  # at the threshold: unvoiced
    salience[2, 0:2] = [0.9, 0.3]  # at the lower edge: the padding counts as zero
    f0 = salience_to_f0(salience)
    assert f0[0] == pytest.approx(10 * 2 ** ((20 * 100 + 1997.3794084376191) / 1200))
    assert f0[1] == 0.0
    cents = (0.9 * 1997.3794084376191 + 0.3 * (20 + 1997.3794084376191)) / 1.2
    assert f0[2] == pytest.approx(10 * 2 ** (cents / 1200))


def test_checkpoint_loads_strictly_with_its_sizes(tmp_path):
    torch.manual_seed(0)
    model = RMVPE(2, 1, n_layers=2, inter_layers=1, channels=4).eval()
    torch.save(model.state_dict(), tmp_path / "rmvpe.pt")
    loaded = load_rmvpe(tmp_path / "rmvpe.pt")
    assert loaded.multiple == 4 and len(loaded.unet.encoder.layers[0].conv) == 2
    audio = np.sin(2 * np.pi * 200 * np.arange(4000) / 16000).astype(np.float32)
    wav = torch.from_numpy(audio)[None]
    with torch.no_grad():
        a, b = model(model.mel(wav)), loaded(loaded.mel(wav))
    assert a.shape == (1, 26, 360)  # 4000 // 160 + 1 frames, padded to 28 inside
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert loaded.f0(audio).shape == (26,)
    state = model.state_dict()
    del state["fc.1.bias"]
    torch.save(state, tmp_path / "broken.pt")
    with pytest.raises(CheckpointError, match=r"missing keys \[1\]: fc\.1\.bias"):
        load_rmvpe(tmp_path / "broken.pt")
    torch.save({"weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an RMVPE checkpoint"):
        load_rmvpe(tmp_path / "other.pt")


def test_rmvpe_method_needs_the_model(fixtures_dir):
    from voxlab.generation.neural.rvc import load_rvc
    from voxlab.generation.neural.rvc.pipeline import ConvertOptions, RVCConverter

    path = fixtures_dir / "generation" / "rvc_v1_f0_48k_tiny.pth"
    if not path.is_file():
        pytest.skip("RVC fixtures not found")
    converter = RVCConverter(load_rvc(path), content=None)
    with pytest.raises(ConfigError, match=r"--rmvpe rmvpe\.pt"):
        converter.convert(np.zeros(8000, np.float32), 16000, ConvertOptions(f0_method="rmvpe"))
