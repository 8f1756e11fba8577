"""``voxlab face``: swap a face into a video, animate a photo with speech, detect fakes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from voxlab.errors import VoxlabError

# cv2, dlib, torch and PyAV are imported inside the commands (fast `voxlab --help`).

face_app = typer.Typer(
    help="Faces: landmark swap, voice-driven talking face, detectors for both.",
    no_args_is_help=True,
)


def bar(progress: bool, unit: str = "frame"):
    """A ``wrap(iterable, total)`` that shows a tqdm bar on a terminal (quiet otherwise)."""
    from tqdm import tqdm

    def wrap(it, total):
        return tqdm(it, total=total or None, unit=unit, file=sys.stderr,
                    disable=not progress or None)  # fmt: skip

    return wrap


@face_app.command("swap")
def swap_command(
    target: Path = typer.Argument(..., help="Video whose face gets replaced."),
    source: Path | None = typer.Option(
        None, "--source", "-s", help="Photo of the face to put in (landmark method)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output video (.mp4)."),
    face_index: int | None = typer.Option(
        None, "--face-index", help="Which face of the target (0 = largest) when several."
    ),
    source_index: int | None = typer.Option(
        None, "--source-index", help="Which face of the source photo (0 = largest)."
    ),
    smoothing: float = typer.Option(0.5, help="EMA weight in [0, 1) for --stabilise ema."),
    stabilise: str = typer.Option(
        "flow",
        help="Landmark stabilisation: flow (optical flow fused with detection: a still face "
        "stays still, a moving one does not lag), ema (exponential smoothing) or none.",
    ),
    blend: str = typer.Option("poisson", help="poisson (seamlessClone) or alpha (faster)."),
    max_frames: int | None = typer.Option(None, help="Stop after this many frames."),
    caption: bool = typer.Option(True, help="Draw the visible 'AI-generated' caption."),
    progress: bool = typer.Option(True, help="Progress bar on a terminal."),
    method: str = typer.Option(
        "landmark", help="landmark (warp --source) or learned (autoencoder, see --model)."
    ),
    model: Path | None = typer.Option(
        None, help="Learned model from `voxlab face train-swap` (shipped hopper<->astronaut)."
    ),
    to: str = typer.Option("b", help="Learned: the identity the output shows (a or b)."),
) -> None:
    """Replace the face in every frame of TARGET: by --source's face, or by a learned model.

    Landmark method (default): Delaunay warp of the --source face, colour transfer and
    Poisson blending. --method learned: a DeepFaceLab-style model (shared encoder, one
    decoder per identity) redraws the target's face as the model's other identity (--to b
    when the video shows A); without --model, the shipped hopper <-> astronaut model.
    Both track landmarks stabilised by optical flow (--stabilise); the target's audio is
    kept and the output carries the AI-generated tag.

    Examples:
        voxlab face swap --source me.jpg clip.mp4 -o swapped.mp4
        voxlab face swap -s me.jpg group.mp4 --face-index 1 --blend alpha -o out.mp4
        voxlab face swap -s me.jpg clip.mp4 --stabilise ema --smoothing 0.7 -o out.mp4
        voxlab face swap --method learned hopper_clip.mp4 -o as_astronaut.mp4
        voxlab face swap --method learned --model ab.pt --to a b_clip.mp4 -o as_a.mp4
    """
    from voxlab.av.make import check_output_path, draw_caption
    from voxlab.av.video import probe_video, read_audio_track, read_frames, read_image, write_video
    from voxlab.face.swap import FaceSwapper
    from voxlab.watermark.labels import label_metadata

    check_output_path(out)
    if method not in ("landmark", "learned"):
        raise VoxlabError(f"--method {method!r}: use landmark or learned")
    if stabilise not in ("flow", "ema", "none"):
        raise VoxlabError(f"--stabilise {stabilise!r}: use flow, ema or none")
    if method == "landmark" and source is None:
        raise VoxlabError("--source PHOTO is needed by the landmark method (or --method learned)")
    info = probe_video(target)
    if not info.has_video:
        raise VoxlabError(f"{target}: no video stream; give a video to swap into")
    if method == "learned":
        from voxlab.face.learned_io import load_swap_model
        from voxlab.face.learned_swap import LearnedSwapper

        learned = load_swap_model(model)
        swapper = LearnedSwapper(learned, to=to, target_index=face_index, smoothing=smoothing)
        source = Path(str(learned.meta.get(to) or f"model identity {to}"))
    else:
        swapper = FaceSwapper(read_image(source), source_index=source_index,
                              target_index=face_index, smoothing=smoothing, blend=blend,
                              stabilise=stabilise, name=str(source))  # fmt: skip
    swapper.tracker.stabilise = stabilise  # the learned swapper's tracker too
    frames = swapper.swap_frames(read_frames(target, max_frames=max_frames))
    if caption:
        frames = (draw_caption(f) for f in frames)
    frames = bar(progress)(frames, min(info.frames, max_frames or 10**9))
    audio = read_audio_track(target, sr=48_000) if info.has_audio else None
    if audio is not None and max_frames:
        audio = audio[: int(max_frames / (info.fps or 25) * 48_000)]
    tags = label_metadata(extra=f"face swap from {source.name}")
    write_video(out, frames, fps=info.fps or 25.0, audio=audio,
                sample_rate=48_000 if audio is not None else None, metadata=tags)  # fmt: skip
    s = swapper.stats
    typer.echo(f"{out}: {s.swapped}/{s.frames} frames swapped ({s.no_face} without a face)",
               err=True)  # fmt: skip
    if s.swapped == 0:
        raise VoxlabError(f"{target}: no face found in any frame; nothing was swapped")


@face_app.command("train-swap")
def train_swap_command(
    a: str = typer.Option(
        ..., "--a", help="Identity A: hopper, astronaut, messi, a photo or video."
    ),
    b: str = typer.Option(..., "--b", help="Identity B (same choices)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write (.pt)."),
    recipe: Path | None = typer.Option(
        None, help="Recipe YAML (model sizes, steps); the DEBUG configuration when unset."
    ),
    steps: int | None = typer.Option(None, help="Override the recipe's step count."),
    crops: int = typer.Option(300, help="Training crops per identity."),
    held_out: int = typer.Option(40, help="Held-out crops per identity (another seed)."),
    checkpoint_every: int = typer.Option(500, help="Steps between checkpoints (OUT.ckpt)."),
    resume: bool = typer.Option(False, help="Continue from OUT.ckpt."),
    precision: str = typer.Option(
        "float32", help="Stored weights: float32, float16 (1/2 size) or int8 (1/4 size)."
    ),
    device: str = typer.Option("cpu", help="Torch device for training (cpu, cuda, cuda:1)."),
    progress: bool = typer.Option(True, help="Progress bar on a terminal."),
) -> None:
    r"""Train a learned face-swap model (shared encoder, decoders for A and B).

    Each identity's crops are aligned faces of its photo with talking-face expressions
    (open/closed mouth, blinks) and random poses, or of a video's frames. The training
    state is checkpointed to OUT.ckpt (--resume continues); the model file records the
    held-out reconstruction L1 before and after training. Use it with
    `voxlab face swap --method learned --model OUT`.

    Examples:
        voxlab face train-swap --a hopper --b astronaut \
            --recipe recipes/face/dfl_cpu64.yaml -o ab.pt
        voxlab face train-swap --a me.jpg --b you.mp4 --recipe recipes/face/dfl_sae.yaml -o m.pt
        voxlab face train-swap --a hopper --b astronaut --recipe r.yaml -o ab.pt --resume
    """
    import dataclasses

    from voxlab.face.learned import DEBUG, config_from_yaml
    from voxlab.face.learned_swap import train_swap_run

    cfg = config_from_yaml(recipe) if recipe is not None else DEBUG
    if recipe is None:
        typer.echo(
            f"no --recipe: the DEBUG configuration ({DEBUG.steps} steps at {DEBUG.resolution} "
            "px, a smoke test); --recipe recipes/face/dfl_cpu64.yaml trains a usable model",
            err=True,
        )
    if steps is not None:
        cfg = dataclasses.replace(cfg, steps=steps)
    meta = train_swap_run(
        a,
        b,
        cfg,
        out,
        crops=crops,
        held_out=held_out,
        resume=resume,
        checkpoint_every=checkpoint_every,
        precision=precision,
        recipe=str(recipe or "DEBUG"),
        device=device,
        progress=bar(progress, "step"),
    )
    before, after = meta["heldout_l1_before"], meta["heldout_l1_after"]
    typer.echo(
        f"{out}: {cfg.steps} steps, final loss {meta['final_loss']:.4f}; held-out L1 "
        f"A {before['a']:.4f} -> {after['a']:.4f}, B {before['b']:.4f} -> {after['b']:.4f}"
    )


@face_app.command("talk")
def talk_command(
    image: Path = typer.Argument(..., help="Photo of a face."),
    speech: Path = typer.Argument(..., help="Speech audio (any format voxlab reads)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output video (.mp4)."),
    fps: float = typer.Option(25.0, help="Frame rate."),
    phonemes: Path | None = typer.Option(
        None,
        "--phonemes",
        help='Timed phonemes (JSON [[start_s, end_s, "symbol"], ...]) to drive the mouth '
        "instead of the audio envelope.",
    ),
    face_index: int | None = typer.Option(None, "--face-index", help="Which face (0 = largest)."),
    seed: int = typer.Option(0, help="Seed of blinks and head motion."),
    head_motion: float = typer.Option(1.0, help="Head-motion amplitude (0 = still)."),
    caption: bool = typer.Option(True, help="Draw the visible 'AI-generated' caption."),
    progress: bool = typer.Option(True, help="Progress bar on a terminal."),
) -> None:
    """Animate the face in IMAGE so it speaks SPEECH.

    The mouth follows the audio's envelope and spectrum, or, with --phonemes, the timed
    phonemes of the speech: a JSON list [[start_s, end_s, "symbol"], ...] (IPA or
    espeak-ng symbols, mapped to visemes; p/b/m close the lips), or the provenance.json
    of `voxlab av make`, whose Piper/VITS/espeak speech carries its phoneme timings.

    Examples:
        voxlab tts "Hello there." -o hello.wav && voxlab face talk me.jpg hello.wav -o talk.mp4
        voxlab face talk me.jpg speech.flac --head-motion 0 --no-caption -o still.mp4
        voxlab av make "Bob may pay Mom." --face a.jpg --engine piper -o bob.mp4
        voxlab face talk b.jpg bob.mp4 --phonemes bob.mp4.run/provenance.json -o b.mp4
    """
    from voxlab.audio import load
    from voxlab.av.make import check_output_path, draw_caption
    from voxlab.av.video import read_image, write_video
    from voxlab.face.errors import FaceError
    from voxlab.face.talk import TalkingFace, mouth_from_audio, visemes_from_phonemes
    from voxlab.face.visemes import read_events
    from voxlab.watermark.labels import label_metadata, read_label

    check_output_path(out)
    events = read_events(phonemes) if phonemes is not None else None
    audio, info = load(speech, sr=None, mono=True)
    duration = len(audio) / info.sample_rate
    if events is not None and events[-1][1] > duration + 0.25:
        raise FaceError(
            f"{phonemes}: the phonemes run to {events[-1][1]:.2f} s but {speech} lasts "
            f"{duration:.2f} s; give the phoneme events of this speech"
        )
    face = TalkingFace(read_image(image), face_index=face_index, seed=seed,
                       head_motion=head_motion, name=str(image))  # fmt: skip
    if events is not None:
        track = visemes_from_phonemes(events, duration=duration, fps=fps)
    else:
        track = mouth_from_audio(audio, info.sample_rate, fps=fps)
    frames = face.frames(track)
    if caption:
        frames = (draw_caption(f) for f in frames)
    frames = bar(progress)(frames, len(track.opening))
    label = read_label(speech)
    tags = label_metadata(extra=f"talking face from {image.name}" +
                          (f"; speech label: {label}" if label else ""))  # fmt: skip
    write_video(out, frames, fps=fps, audio=audio, sample_rate=info.sample_rate, metadata=tags)
    source = "phonemes" if events is not None else "audio"
    typer.echo(f"{out}: {len(track.opening)} frames, mouth from {source}", err=True)


@face_app.command("detect")
def detect_command(
    video: Path = typer.Argument(..., help="Video to check."),
    out_dir: Path | None = typer.Option(
        None, "--out-dir", "-o", help="Write report.json and report.png here."
    ),
    weights: Path | None = typer.Option(None, help="Boundary-CNN weights (shipped by default)."),
    max_frames: int | None = typer.Option(None, help="Analyse at most this many frames."),
    face_index: int | None = typer.Option(None, "--face-index", help="Which face (0 = largest)."),
    cm_model: str | None = typer.Option(
        None, "--cm-model", help="Also score the audio with this `voxlab detect` model."
    ),
    key: Path | None = typer.Option(None, "--key", help="Watermark key (generation key if unset)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json (to stdout)."),
    progress: bool = typer.Option(True, help="Progress bar on a terminal."),
) -> None:
    """Check a video: blending-boundary CNN, audio-visual synchrony, audio watermark/CM.

    Examples:
        voxlab face detect suspicious.mp4
        voxlab face detect clip.mp4 -o report/ --format json
        voxlab face detect clip.mp4 --cm-model aasist --max-frames 250
    """
    from voxlab.face.report import analyse_video, plot_report

    if fmt not in ("text", "json"):
        raise VoxlabError(f"--format {fmt!r}: use text or json")
    report = analyse_video(video, weights=weights, max_frames=max_frames, face_index=face_index,
                           cm_model=cm_model, key=key, progress=bar(progress))  # fmt: skip
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.json").write_text(json.dumps(public, indent=2))
        plot_report(report, out_dir / "report.png")
    if fmt == "json":
        typer.echo(json.dumps(public, indent=2))
        return
    b = report["boundary"]
    typer.echo(f"{video}: {report['frames']} frames, face in {report['faces_found']}")
    if "skipped" in b:
        typer.echo(f"  boundary CNN: skipped ({b['skipped']})")
    else:
        typer.echo(f"  boundary CNN mean logit: {b['mean']} (>0 = swapped)")
    sy = report["synchrony"]
    if "skipped" in sy:
        typer.echo(f"  synchrony: skipped ({sy['skipped']})")
    else:
        flag = {True: "FLAGGED (out of sync)", False: "in sync"}.get(
            sy["flagged"], "too short to judge (< 2 s with a face)"
        )
        typer.echo(f"  synchrony: best lag {sy['lag_s']} s, r={sy['peak']} -> {flag}")
    au = report["audio"]
    if "skipped" not in au:
        typer.echo(f"  audio watermark: {'found' if au['watermark']['found'] else 'not found'};"
                   f" label: {au.get('label')}")  # fmt: skip
        if "countermeasure" in au:
            typer.echo(f"  countermeasure: {au['countermeasure']}")


def register(app: typer.Typer) -> None:
    """Add ``voxlab face`` to ``app``."""
    app.add_typer(face_app, name="face")
