"""``festival`` engine: the Festival Speech Synthesis System's statistical and concatenative voices.

Debian packages (``apt-get install -y festival festvox-us-slt-hts festvox-kallpc16k
festvox-kdlpc16k``):

- ``cmu_us_slt_arctic_hts``: HMM-based statistical parametric synthesis (HTS, the survey's
  SPSS), US English, female (CMU ARCTIC slt), 32 kHz here.
- ``kal_diphone``, ``ked_diphone``: residual-LPC diphone concatenation, US English, male,
  16 kHz.
- any other installed Festival voice (e.g. ``msu_ru_nsh_clunits``, Russian unit selection
  from ``festvox-ru``) is found the same way: ``<voices dir>/<language>/<name>/festvox/``.

voxlab runs ``text2wave`` with an argument list (no shell): the text goes in a temporary
file, and the voice selection and rate in a generated Scheme file; voice names are checked
against the installed voices. ``speed`` sets hts_engine's speech rate (``-r``) for HTS
voices and ``Duration_Stretch = 1 / speed`` for the others. Festival is deterministic.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.generation.neural.engines.base import EngineError, TTSEngine, Voice
from voxlab.generation.neural.engines.registry import register_engine

VOICE_ROOTS = (Path("/usr/share/festival/voices"), Path("/usr/lib/festival/voices"))
_NAME = re.compile(r"^[a-z0-9_]+$")
_LICENCES = {
    "cmu_us_slt_arctic_hts": "CMU ARCTIC data (BSD-style, EST-2003); HTS voice (BSD-3, NITech)",
    "kal_diphone": "BSD-style (Alan W Black and Kevin Lenzo, 1998)",
    "ked_diphone": "BSD-style (CSTR, University of Edinburgh, 1997)",
    "msu_ru_nsh_clunits": "BSD-like (Nickolay Shmyrev, 2005)",
}
_PACKAGES = {
    "cmu_us_slt_arctic_hts": "Debian festvox-us-slt-hts",
    "kal_diphone": "Debian festvox-kallpc16k",
    "ked_diphone": "Debian festvox-kdlpc16k",
    "msu_ru_nsh_clunits": "Debian festvox-ru",
}
_LANGS = {"english": "en-us", "us": "en-us", "russian": "ru", "spanish": "es", "welsh": "cy"}


def method(voice_id: str) -> str:
    """Synthesis method of a Festival voice from its name: hts, diphone or unit-selection."""
    if voice_id.endswith("_hts"):
        return "hts"
    if voice_id.endswith("_diphone"):
        return "diphone"
    if voice_id.endswith("_clunits") or voice_id.endswith("_multisyn"):
        return "unit-selection"
    return "other"


@lru_cache(maxsize=4)
def _scan(roots: tuple[Path, ...]) -> tuple[tuple[str, str, str | None, str], ...]:
    """``(name, language, gender, description)`` of each installed voice."""
    found = {}
    for root in roots:
        if not root.is_dir():
            continue
        for festvox in sorted(root.glob("*/*/festvox")):
            name = festvox.parent.name
            if not _NAME.match(name) or name in found:
                continue
            text = ""
            for scm in festvox.glob("*.scm"):
                body = scm.read_text("latin-1", errors="replace")
                if "proclaim_voice" in body:
                    text = body
                    break
            lang_m = re.search(r"\(language\s+([a-z_]+)\)", text)
            gender_m = re.search(r"\(gender\s+(male|female)\)", text)
            lang = lang_m.group(1) if lang_m else festvox.parent.parent.name
            found[name] = (
                name,
                _LANGS.get(lang, lang),
                gender_m.group(1) if gender_m else None,
                festvox.parent.parent.name,
            )
    return tuple(found.values())


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    from voxlab.audio import load

    samples, meta = load(path, sr=None)
    return samples, int(meta.sample_rate)


@register_engine
class FestivalEngine(TTSEngine):
    """Festival voices through ``text2wave`` (HTS statistical, diphone, unit selection)."""

    name = "festival"
    description = "Festival: HTS statistical (slt) and diphone (kal, ked) voices"
    install_hint = (
        "apt-get install -y festival festvox-us-slt-hts festvox-kallpc16k festvox-kdlpc16k"
    )
    family = "hts/diphone"

    def missing(self) -> str | None:
        """None when ``text2wave`` and at least one voice are installed."""
        if shutil.which("text2wave") is None:
            return f"the festival program text2wave is not on PATH; install: {self.install_hint}"
        if not _scan(VOICE_ROOTS):
            return f"no Festival voice installed; install: {self.install_hint}"
        return None

    @property
    def default_voice(self) -> str:
        """``cmu_us_slt_arctic_hts`` (HTS) when installed, else the first voice found."""
        names = [row[0] for row in _scan(VOICE_ROOTS)]
        if "cmu_us_slt_arctic_hts" in names or not names:
            return "cmu_us_slt_arctic_hts"
        return names[0]

    def voices(self) -> list[Voice]:
        """Every installed Festival voice."""
        if shutil.which("text2wave") is None:
            return []
        out = []
        for name, lang, gender, _ in _scan(VOICE_ROOTS):
            out.append(
                Voice(
                    id=name,
                    engine=self.name,
                    language=lang,
                    gender=gender,
                    sample_rate=32_000 if method(name) == "hts" else 16_000,
                    licence=_LICENCES.get(name, "see the voice package's copyright file"),
                    source=_PACKAGES.get(name, "Debian festvox-* package"),
                    description=f"Festival {method(name)} voice",
                )
            )
        return out

    def _script(self, voice_id: str, speed: float) -> str:
        if not _NAME.match(voice_id):  # already checked by voice(); never reaches Scheme
            raise EngineError(f"festival: bad voice name {voice_id!r}")
        lines = [f"(voice_{voice_id})"]
        if method(voice_id) == "hts":
            if speed != 1.0:
                lines.append(
                    f'(set! hts_engine_params (append hts_engine_params (list (list "-r" '
                    f"{speed:.6f}))))"
                )
        else:
            lines.append(f"(Parameter.set 'Duration_Stretch {1.0 / speed:.6f})")
        return "\n".join(lines) + "\n"

    def _synthesize(
        self, text: str, voice: Voice, *, speed: float, seed: int
    ) -> tuple[np.ndarray, int, Mapping[str, Any]]:
        program = shutil.which("text2wave")
        if program is None:
            self.require()
        with tempfile.TemporaryDirectory(prefix="voxlab-festival-") as tmp:
            text_file, setup, out = (
                Path(tmp, "text.txt"),
                Path(tmp, "setup.scm"),
                Path(tmp, "o.wav"),
            )
            text_file.write_text(text + "\n", encoding="utf-8")
            setup.write_text(self._script(voice.id, speed), encoding="utf-8")
            try:
                proc = subprocess.run(
                    [program, "-eval", os.fspath(setup), "-o", os.fspath(out),
                     os.fspath(text_file)],
                    capture_output=True, timeout=300, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired as exc:
                raise EngineError(f"festival took longer than {exc.timeout} s") from exc
            err = proc.stderr.decode("utf-8", "replace").strip()
            if proc.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
                raise EngineError(
                    f"festival voice {voice.id} failed (exit {proc.returncode}): "
                    f"{err[-400:] or 'no audio produced'}; check the text's language"
                )
            samples, rate = _read_wav(out)
        return samples, rate, {"method": method(voice.id)}
