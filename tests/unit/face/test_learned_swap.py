"""The learned swap end to end: training crops, train-swap, swap --method learned, weights.

Faces: matplotlib's grace_hopper.jpg and scikit-image's astronaut.png (both public domain).
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run(args):
    from voxlab.cli.main import main

    try:
        return main(args)
    except SystemExit as exc:
        return exc.code


@pytest.fixture(scope="module")
def faces(face_libs):
    pytest.importorskip("matplotlib", reason="matplotlib ships the hopper photo")
    pytest.importorskip("skimage", reason="scikit-image ships the astronaut photo")
    from voxlab.face.learned_swap import identity_image

    return identity_image("hopper"), identity_image("astronaut")


@pytest.fixture(scope="module")
def trained(faces, tmp_path_factory):
    """``voxlab face train-swap`` with the DEBUG configuration: 3 steps, 6 crops each."""
    out = tmp_path_factory.mktemp("learned") / "ab.pt"
    code = run(["face", "train-swap", "--a", "hopper", "--b", "astronaut", "-o", str(out),
                "--crops", "6", "--held-out", "2", "--steps", "3", "--no-progress"])  # fmt: skip
    assert code in (0, None)
    return out


def test_identity_crops_vary_in_expression_and_pose(faces, landmarker):
    from voxlab.face.learned_swap import identity_crops

    crops, masks = identity_crops("hopper", 8, size=32, seed=0, landmarker=landmarker)
    assert crops.shape == (8, 32, 32, 3) and masks.shape == (8, 32, 32)
    assert 0.2 < masks.mean() < 0.7  # the face hull, not the whole crop
    lower = crops[:, 20:28, 8:24].astype(float)  # mouth region
    assert lower.std(0).mean() > 5  # open and closed mouths, poses
    again, _ = identity_crops("hopper", 8, size=32, seed=0, landmarker=landmarker)
    assert np.array_equal(crops, again)


def test_identity_crops_from_a_video(faces, landmarker, tmp_path):
    from voxlab.av.video import write_video
    from voxlab.face.boundary import random_pose
    from voxlab.face.learned_swap import identity_crops

    rng = np.random.default_rng(4)
    clip = tmp_path / "b.mp4"
    write_video(clip, [random_pose(faces[1], rng) for _ in range(3)], fps=5)
    crops, masks = identity_crops(clip, 5, size=32, landmarker=landmarker)
    assert crops.shape == (5, 32, 32, 3) and masks.mean() > 0.2  # 3 frames + 2 posed again
    blank = tmp_path / "blank.mp4"
    write_video(blank, [np.full((96, 96, 3), 80, np.uint8)] * 2, fps=5)
    with pytest.raises(Exception, match=r"blank\.mp4: no face"):
        identity_crops(blank, 2, size=32, landmarker=landmarker)


def test_train_swap_writes_a_loadable_model_and_resumes(trained, capsys):
    import torch

    from voxlab.face.learned import DEBUG
    from voxlab.face.learned_io import load_swap_model

    model = load_swap_model(trained)
    assert model.cfg == DEBUG.__class__(**{**DEBUG.__dict__, "steps": 3})
    assert model.meta["a"] == "hopper" and len(model.meta["heldout_l1_after"]) == 2
    ckpt = torch.load(str(trained) + ".ckpt", weights_only=True)
    assert ckpt["step"] == 3 and len(ckpt["losses"]) == 3
    # --resume with more steps continues from step 3
    more = trained.with_name("more.pt")
    more.with_name("more.pt.ckpt").write_bytes((trained.parent / "ab.pt.ckpt").read_bytes())
    code = run(["face", "train-swap", "--a", "hopper", "--b", "astronaut", "-o", str(more),
                "--crops", "6", "--held-out", "2", "--steps", "5", "--resume",
                "--no-progress"])  # fmt: skip
    assert code in (0, None)
    assert "5 steps" in capsys.readouterr().out
    ckpt5 = torch.load(str(more) + ".ckpt", weights_only=True)
    assert ckpt5["step"] == 5 and ckpt5["losses"][:3] == ckpt["losses"]
    missing = trained.with_name("none.pt")
    assert run(["face", "train-swap", "--a", "hopper", "--b", "astronaut", "-o", str(missing),
                "--resume", "--no-progress"]) == 2  # fmt: skip
    assert "none.pt.ckpt" in capsys.readouterr().err
    assert run(["face", "train-swap", "--a", "nobody.jpg", "--b", "astronaut", "-o",
                str(missing), "--no-progress"]) == 2  # fmt: skip
    assert "nobody.jpg" in capsys.readouterr().err
    assert run(["face", "train-swap", "--a", "hopper", "--b", "astronaut", "-o",
                str(missing), "--precision", "int4", "--no-progress"]) == 2  # fmt: skip
    assert "int4" in capsys.readouterr().err and not missing.exists()
    assert run(["face", "train-swap", "--a", "hopper", "--b", "astronaut", "-o",
                str(missing), "--device", "gpu0", "--no-progress"]) == 2  # fmt: skip
    assert "gpu0" in capsys.readouterr().err


def test_resumed_training_equals_an_uninterrupted_run():
    import torch

    from voxlab.face.learned import DEBUG, train_swap_model

    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    b = rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    states = []
    full, losses = train_swap_model(a, b, DEBUG, checkpoint=states.append, checkpoint_every=3)
    assert [s["step"] for s in states] == [3, 6]
    resumed, losses2 = train_swap_model(a, b, DEBUG, resume=states[0])
    assert losses2 == pytest.approx(losses, abs=1e-6)
    for k, v in full.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[k], v, atol=1e-6, rtol=0)
    other = type(DEBUG)(**{**DEBUG.__dict__, "enc_dims": 4})
    from voxlab.errors import ConfigError

    with pytest.raises(ConfigError, match="same recipe"):
        train_swap_model(a, b, other, resume=states[0])


def test_learned_swap_changes_only_the_masked_face(trained, faces, landmarker):
    from voxlab.face.learned_io import load_swap_model
    from voxlab.face.learned_swap import LearnedSwapper

    hopper = faces[0]
    swapper = LearnedSwapper(load_swap_model(trained), landmarker=landmarker, smoothing=0.0)
    pts = landmarker.face(hopper).points
    out = swapper.swap_points(hopper, pts)
    diff = np.abs(out.astype(int) - hopper.astype(int)).sum(-1)
    x0, y0 = pts.min(0).astype(int)
    x1, y1 = pts.max(0).astype(int)
    assert diff[y0:y1, x0:x1].mean() > 5  # the face is redrawn
    far = np.ones(diff.shape, bool)
    w, h = x1 - x0, y1 - y0
    far[max(0, y0 - h // 2) : y1 + h // 2, max(0, x0 - w // 2) : x1 + w // 2] = False
    assert diff[far].max() == 0  # nothing outside the pasted mask moves
    with pytest.raises(Exception, match="use a or b"):
        LearnedSwapper(load_swap_model(trained), to="c", landmarker=landmarker)


def test_cli_swap_learned_keeps_audio_and_background(trained, faces, tmp_path, capsys):
    from voxlab.av.video import probe_video, read_frames, write_video
    from voxlab.face.boundary import random_pose

    rng = np.random.default_rng(2)
    frames = [np.full((400, 400, 3), 60, np.uint8) for _ in range(4)]
    for f in frames:
        f[40:360, 40:360] = random_pose(faces[0], rng)
    clip = tmp_path / "clip.mp4"
    tone = 0.2 * np.sin(2 * np.pi * 440 * np.arange(48_000 * 4 // 10) / 48_000)
    write_video(clip, frames, fps=10, audio=tone.astype(np.float32), sample_rate=48_000)
    out = tmp_path / "swapped.mp4"
    assert run(["face", "swap", str(clip), "--method", "learned", "--model", str(trained),
                "-o", str(out), "--no-caption", "--smoothing", "0",
                "--no-progress"]) in (0, None)  # fmt: skip
    assert "4/4 frames swapped" in capsys.readouterr().err
    info = probe_video(out)
    assert info.has_audio and info.frames == 4
    before, after = list(read_frames(clip)), list(read_frames(out))
    diff = np.abs(after[0].astype(int) - before[0].astype(int)).sum(-1)
    # re-encoding alone moves pixels by a few levels (H.264); the face moves by far more
    noise = max(diff[:30].mean(), diff[-30:].mean())  # top/bottom rows: outside the face
    assert noise < 10 and diff[150:250, 150:250].mean() > 3 * noise


def test_bad_models_get_clear_errors(tmp_path, capsys):
    import torch

    from voxlab.errors import CheckpointError
    from voxlab.face.learned import DEBUG, DFLAutoencoder
    from voxlab.face.learned_io import load_swap_model, save_swap_model

    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model" * 20)
    with pytest.raises(CheckpointError, match=r"junk\.pt.*train-swap"):
        load_swap_model(junk)
    with pytest.raises(CheckpointError, match="no such face-swap model"):
        load_swap_model(tmp_path / "missing.pt")
    good = save_swap_model(DFLAutoencoder(DEBUG), tmp_path / "good.pt")
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        load_swap_model(good, sha256="0" * 64)
    blob = torch.load(good, weights_only=True)
    blob["config"]["ae_dims"] = 16  # weights of another size
    torch.save(blob, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"other\.pt"):
        load_swap_model(tmp_path / "other.pt")
    clip = tmp_path / "c.mp4"
    from voxlab.av.video import write_video

    write_video(clip, [np.zeros((64, 64, 3), np.uint8)] * 2, fps=5)
    assert run(["face", "swap", str(clip), "--method", "learned", "--model", str(junk),
                "-o", str(tmp_path / "o.mp4")]) == 2  # fmt: skip
    assert "junk.pt" in capsys.readouterr().err
    assert run(["face", "swap", str(clip), "-o", str(tmp_path / "o.mp4")]) == 2
    assert "--source" in capsys.readouterr().err


def test_shipped_model_matches_its_checksum_and_swaps_identity(faces, landmarker):
    """The shipped hopper <-> astronaut model: sha256-checked, small, and a real swap.

    On held-out crops (seed 1) each decoder reconstructs its own identity closely, and the
    other decoder's output lies nearer the other identity's mean face than the input's.
    """
    import torch

    from voxlab.face.learned import WEIGHTS
    from voxlab.face.learned_io import file_sha256, load_swap_model
    from voxlab.face.learned_swap import identity_crops

    if not WEIGHTS.is_file():
        pytest.skip("shipped learned-swap weights not built (see recipes/face/dfl_cpu64.yaml)")
    assert WEIGHTS.stat().st_size < 2_500_000
    model = load_swap_model()
    assert file_sha256(WEIGHTS) and model.meta["a"] == "hopper"
    r = model.cfg.resolution
    ca, ma = identity_crops("hopper", 6, size=r, seed=1, landmarker=landmarker)
    cb, mb = identity_crops("astronaut", 6, size=r, seed=1, landmarker=landmarker)

    def t(c):
        return torch.from_numpy(c).permute(0, 3, 1, 2).float() / 255

    with torch.no_grad():
        a2b, b2a = model(t(ca), "b")[0], model(t(cb), "a")[0]
    mean_a, mean_b = t(ca).mean(0), t(cb).mean(0)
    m = torch.from_numpy(ma * mb)[:, None]  # where both masks are face

    def dist(x, ref):
        return float((torch.abs(x - ref) * m).sum() / m.sum())

    assert dist(a2b, mean_b) < dist(a2b, mean_a)
    assert dist(b2a, mean_a) < dist(b2a, mean_b)


def test_int8_and_float16_files_are_smaller_and_close(tmp_path):
    import torch

    from voxlab.errors import ConfigError
    from voxlab.face.learned import DEBUG, DFLAutoencoder
    from voxlab.face.learned_io import load_swap_model, save_swap_model

    torch.manual_seed(0)
    model = DFLAutoencoder(DEBUG).eval()
    x = torch.rand(2, 3, 32, 32)
    ref = model.swap(x)[0]
    sizes = {}
    for prec, tol in (("float32", 0.0), ("float16", 2e-3), ("int8", 2e-2)):
        path = save_swap_model(model, tmp_path / f"{prec}.pt", precision=prec)
        sizes[prec] = path.stat().st_size
        again = load_swap_model(path)
        assert again.meta["precision"] == prec
        torch.testing.assert_close(again.swap(x)[0], ref, atol=tol, rtol=0)
    assert sizes["int8"] < 0.6 * sizes["float16"] < 0.6 * sizes["float32"]
    with pytest.raises(ConfigError, match="precision"):
        save_swap_model(model, tmp_path / "x.pt", precision="int4")
