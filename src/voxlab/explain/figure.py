"""The explanation figure: spectrogram, attribution overlays and the score timeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voxlab.explain.core import Explanation


def draw(expl: Explanation, path: str | Path, *, title: str | None = None) -> Path:
    """Draw ``expl`` to a PNG: one panel per computed piece, sharing the time axis.

    Panels: the spectrogram; integrated gradients (magnitude of the attribution's STFT,
    over the greyed spectrogram); Grad-CAM over the greyed spectrogram; the per-frame
    spoof evidence of the scan and occlusion methods (each scaled to a maximum of 1), with
    the scan's mean window margin; the per-window bona fide scores (one line per window,
    at its span) with the per-frame IG profile.

    Returns:
        The written path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = ["spec"]
    if expl.ig_tf is not None:
        panels.append("ig")
    if expl.gradcam is not None:
        panels.append("gradcam")
    if expl.scan_evidence is not None or expl.occlusion_evidence is not None:
        panels.append("evidence")
    if expl.window_scores is not None or expl.ig_frames is not None:
        panels.append("timeline")
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, 2.3 * len(panels)), sharex=True, squeeze=False
    )
    extent = [0, float(expl.times[-1]) + 0.01, expl.freqs[0] / 1000, expl.freqs[-1] / 1000]
    spec = expl.spectrogram_db
    vmin = spec.max() - 80
    for ax, panel in zip(axes[:, 0], panels):
        if panel == "spec":
            ax.imshow(spec, origin="lower", aspect="auto", extent=extent, cmap="magma", vmin=vmin)
            ax.set_title(title or f"{expl.info.get('model', '')}: spectrogram")
        elif panel in ("ig", "gradcam"):
            ax.imshow(spec, origin="lower", aspect="auto", extent=extent, cmap="gray", vmin=vmin)
            if panel == "ig":
                over = expl.ig_tf / max(float(expl.ig_tf.max()), 1e-12)
                name = f"integrated gradients (|STFT|, {expl.info.get('ig_steps')} steps)"
            else:
                over = expl.gradcam
                name = f"Grad-CAM ({', '.join(expl.gradcam_layers)})"
            masked = np.ma.masked_less(over, 0.05)
            ax.imshow(masked, origin="lower", aspect="auto", extent=extent, cmap="jet",
                      alpha=0.6, vmin=0, vmax=1)  # fmt: skip
            ax.set_title(name)
        elif panel == "evidence":
            _evidence(ax, expl)
        else:
            _timeline(ax, expl)
        if panel not in ("timeline", "evidence"):
            ax.set_ylabel("kHz")
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _evidence(ax, expl: Explanation) -> None:
    handles = []
    for what, frames, colour in (("scan", expl.scan_evidence, "tab:purple"),
                                 ("occlusion", expl.occlusion_evidence, "tab:green")):  # fmt: skip
        if frames is not None:
            scaled = frames / max(float(frames.max()), 1e-12)
            (line,) = ax.plot(expl.times, scaled, color=colour, lw=1.0,
                              label=f"{what} evidence (max 1)")  # fmt: skip
            ax.fill_between(expl.times, 0, scaled, color=colour, alpha=0.2)
            handles.append(line)
    ax.set_ylabel("evidence")
    if expl.scan_margin is not None:
        twin = ax.twinx()
        (line,) = twin.plot(expl.times, expl.scan_margin, color="k", lw=0.6, ls="--",
                            label="scan: mean window spoof margin")  # fmt: skip
        twin.axhline(expl.info["scan"]["reference"], color="k", lw=0.4, ls=":")
        twin.set_ylabel("margin")
        handles.append(line)
    ax.legend(handles=handles, loc="upper right", fontsize=7)
    ax.set_title("spoof evidence over time (+ = more spoof than the rest of the file)")


def _timeline(ax, expl: Explanation) -> None:
    handles = []
    if expl.window_scores is not None:
        for (s, e), score in zip(expl.window_spans, expl.window_scores):
            ax.hlines(score, s, e, color="tab:blue", alpha=0.35)
        centres = expl.window_spans.mean(axis=1)
        (line,) = ax.plot(centres, expl.window_scores, "o-", color="tab:blue", ms=3,
                          label="window score (bona fide logit)")  # fmt: skip
        handles.append(line)
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_ylabel("score")
    if expl.ig_frames is not None:
        twin = ax.twinx()
        (line,) = twin.plot(expl.times, expl.ig_frames, color="tab:red", lw=0.8,
                            label="IG per 10 ms (+ = spoof evidence)")  # fmt: skip
        twin.set_ylabel("IG")
        handles.append(line)
    ax.legend(handles=handles, loc="upper right", fontsize=7)
    ax.set_title("score timeline")
