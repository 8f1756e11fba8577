#!/usr/bin/env bash
# Build .venv with everything voxlab and its tests need; idempotent.
# Debian packages come through apt-get when run as root (sudo otherwise); npm-shipped
# assets through scripts/npm_assets.sh when present. Each list names who needs what.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

# Debian packages: programs and data voxlab runs or reads.
APT_PACKAGES=(
  espeak-ng   # espeak-ng TTS (stand-in speech, phonemes)
  festival             # voxlab tts --engine festival: text2wave
  festvox-us-slt-hts   # voxlab tts --engine festival: HTS statistical voice (slt)
  festvox-kallpc16k    # voxlab tts --engine festival: diphone voice (kal)
  festvox-kdlpc16k     # voxlab tts --engine festival: diphone voice (ked)
  festvox-ru                    # voxlab.data.sources: Russian read speech (voxlab-wild)
  asterisk-core-sounds-it-wav   # voxlab.data.sources: Italian telephone prompts
  asterisk-core-sounds-ru-wav   # voxlab.data.sources: Russian telephone prompts
  asterisk-prompt-fr-armelle    # voxlab.data.sources: French prompts (GSM)
  asterisk-prompt-es-co         # voxlab.data.sources: Colombian Spanish prompts (GSM)
  fillets-ng-data-cs            # voxlab.data.sources: Czech game dialogue
  gcin-voice                    # voxlab.data.sources: Mandarin syllables
  pocketsphinx-testdata         # voxlab.data.sources: LibriVox sentences with transcripts
  chromium          # voxlab serve: the browser test drives the web page headless
  chromium-driver   # voxlab serve: Selenium talks to chromium through it
  opencv-doc        # voxlab face: test faces (examples/data/messi5.jpg, BSD-3-Clause)
  ffmpeg            # voxlab av: the test reads the AI tag of made videos with ffprobe
)

need_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "warning: ${need_apt[*]} missing and not root: tests that need them will skip" >&2
  fi
fi
# `make data` runs only the Debian part (speech sources), not the venv.
if [ "${APT_ONLY:-0}" = 1 ]; then exit 0; fi

unset PYTHONDONTWRITEBYTECODE
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
echo "==> pip: build tools (pyworld needs setuptools<81)"
"${PIP[@]}" install -q --upgrade pip "setuptools<81" wheel
echo "==> pip: torch==2.13.0 (CPU build) before anything that depends on torch"
"${PIP[@]}" install -q "torch==2.13.0"
echo "==> pip: voxlab with its dev extras"
"${PIP[@]}" install -q -e ".[dev]"
"$VENV/bin/python" -c "import voxlab, torch, pyworld; print('voxlab', voxlab.__version__, 'torch', torch.__version__)"
# npm-only assets (Kokoro voice styles from kokoro-js): unpacked into the venv, no npm install
if [ -x scripts/npm_assets.sh ]; then
  scripts/npm_assets.sh "$VENV"
fi
