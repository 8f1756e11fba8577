"""Safe checkpoint loading, strict matching, official-layout adapters and voxlab's own format."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from voxlab.errors import CheckpointError
from voxlab.models.checkpoints import (
    AASIST_OFFICIAL,
    RAWGAT_ST_OFFICIAL,
    load_checkpoint,
    load_checkpoint_into,
    load_state_dict_safely,
    read_sidecar,
    save_checkpoint,
    unwrap_state_dict,
)
from voxlab.models.detectors.aasist import AASISTConfig
from voxlab.models.registry import build_model

TINY = {"n_filters": 12, "sinc_kernel_size": 32, "encoder_channels": (4, 8, 8), "gat_dims": (8, 8)}


class _Evil:
    """Unpickling this runs code: it writes a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


def _tiny():
    torch.manual_seed(0)
    return build_model("aasist", **TINY).eval()


# ----------------------------------------------------------------------------- unsafe files


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_code_executing_pickle_is_refused(tmp_path, writer):
    marker = tmp_path / "marker.txt"
    path = tmp_path / "evil.pth"
    payload = {"weight": torch.zeros(2), "evil": _Evil(marker)}
    if writer == "torch":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(CheckpointError, match="refusing to load") as info:
        load_state_dict_safely(path)
    assert not marker.exists()
    assert str(path) in str(info.value) and "safetensors" in str(info.value)
    with pytest.raises(CheckpointError):
        load_checkpoint_into(_tiny(), path)
    assert not marker.exists()


def test_missing_empty_directory_corrupt_truncated(tmp_path):
    with pytest.raises(CheckpointError, match="not found") as info:
        load_state_dict_safely(tmp_path / "nope.pth")
    assert "nope.pth" in str(info.value)
    with pytest.raises(CheckpointError, match="not a file"):
        load_state_dict_safely(tmp_path)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_state_dict_safely(empty)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(CheckpointError, match="corrupt") as info:
        load_state_dict_safely(junk)
    assert "junk.pth" in str(info.value) and "download" in str(info.value)
    good = tmp_path / "good.pth"
    torch.save(_tiny().state_dict(), good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_state_dict_safely(truncated)
    bad_st = tmp_path / "bad.safetensors"
    bad_st.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(CheckpointError, match=r"bad\.safetensors"):
        load_state_dict_safely(bad_st)


def test_whole_pickled_object_is_not_a_state_dict(tmp_path):
    path = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), path)
    with pytest.raises(CheckpointError, match="not a state dict"):
        load_state_dict_safely(path)


# ----------------------------------------------------------------------------- wrappers / strict


@pytest.mark.parametrize("wrap", ["plain", "model", "state_dict", "module", "nested"])
def test_wrapped_state_dicts_load(tmp_path, wrap):
    source = _tiny()
    sd = source.state_dict()
    obj = {
        "plain": sd,
        "model": {"model": sd, "epoch": 3},
        "state_dict": {"state_dict": sd, "optimizer": {"lr": 0.1}},
        "module": {f"module.{k}": v for k, v in sd.items()},
        "nested": {"checkpoint": 1, "model": {f"module.{k}": v for k, v in sd.items()}},
    }[wrap]
    path = tmp_path / "ck.pth"
    torch.save(obj, path)
    target = build_model("aasist", **TINY).eval()
    load_checkpoint_into(target, path)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    load_checkpoint_into(build_model("aasist", **TINY), obj)  # in memory too


def test_unwrap_rejects_non_tensor_dicts():
    with pytest.raises(CheckpointError, match="top-level keys: epoch, lr"):
        unwrap_state_dict({"epoch": 3, "lr": 0.1})


def test_strict_matching_lists_missing_unexpected_and_shape(tmp_path):
    sd = _tiny().state_dict()
    broken = dict(sd)
    del broken["classifier.weight"]
    broken["extra.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint_into(build_model("aasist", **TINY), broken, adapter=None)
    msg = str(info.value)
    assert "missing keys [1]: classifier.weight" in msg
    assert "unexpected keys [1]: extra.weight" in msg
    with pytest.raises(
        CheckpointError, match=r"shape keys \[\d+\]: .*checkpoint \(8, 1\) vs model \(4, 1\)"
    ):
        load_checkpoint_into(build_model("aasist", **{**TINY, "gat_dims": (8, 4)}), sd)


def test_wrong_official_checkpoint_is_reported(fixtures_dir):
    with pytest.raises(CheckpointError, match=r"clovaai-aasist.*shape keys"):
        load_checkpoint_into(build_model("aasist"), fixtures_dir / "pretrained" / "aasist_l.pth")
    with pytest.raises(CheckpointError, match="unknown checkpoint adapter"):
        load_checkpoint_into(build_model("aasist"), {"a": torch.zeros(1)}, adapter="nope")


# ----------------------------------------------------------------------------- adapters


@pytest.mark.parametrize(
    ("checkpoint", "model", "adapter"),
    [
        ("aasist.pth", "aasist", AASIST_OFFICIAL),
        ("aasist_l.pth", "aasist-l", AASIST_OFFICIAL),
        ("rawgat_st_mul.pth", "rawgat-st", RAWGAT_ST_OFFICIAL),
    ],
)
def test_adapter_round_trip(fixtures_dir, checkpoint, model, adapter):
    official = load_state_dict_safely(fixtures_dir / "pretrained" / checkpoint)
    assert adapter.matches(official)
    ours = adapter.to_voxlab(official)
    net = build_model(model)
    assert set(ours) == set(net.state_dict())  # every official key accounted for
    back = adapter.from_voxlab(ours)
    assert set(back) == set(official)
    for key, value in official.items():
        assert back[key].shape == value.shape, key
        if not any(dead in key for dead in (".bn1.", ".conv_1.")) or key.endswith(
            ".0.0.conv_1.weight"
        ):
            assert torch.equal(back[key], value), key


# ----------------------------------------------------------------------------- voxlab format


def test_save_and_load_voxlab_format(tmp_path):
    torch.manual_seed(1)
    model = build_model("aasist", **TINY)
    with torch.no_grad():
        model.train()(torch.randn(2, 3000))  # non-trivial BN statistics
    model.eval()
    path = save_checkpoint(model, tmp_path / "run" / "best", metadata={"epoch": 7})
    assert path.suffix == ".safetensors" and path.exists()
    sidecar = read_sidecar(path)
    assert sidecar["model"] == "aasist" and sidecar["metadata"] == {"epoch": 7}
    assert json.loads(path.with_suffix(".json").read_text())["config"]["gat_dims"] == [8, 8]
    loaded = load_checkpoint(path)
    assert not loaded.training
    assert loaded.config == AASISTConfig(**TINY)
    x = torch.randn(2, 3000)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), atol=0, rtol=0)
    # plain safetensors loading without the sidecar
    state = load_state_dict_safely(path)
    assert set(state) == set(model.state_dict())


def test_voxlab_format_errors(tmp_path):
    path = save_checkpoint(_tiny(), tmp_path / "m.safetensors", model_name="aasist")
    path.with_suffix(".json").write_text("{broken")
    with pytest.raises(CheckpointError, match="sidecar"):
        load_checkpoint(path)
    path.with_suffix(".json").unlink()
    with pytest.raises(CheckpointError, match="no config sidecar"):
        load_checkpoint(path)
