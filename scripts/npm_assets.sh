#!/usr/bin/env bash
# Assets that ship only in npm packages, unpacked into the venv (no npm install, no scripts).
#   kokoro-js@1.2.1 (Apache-2.0): the Kokoro-82M v1.0 voice styles voices/*.bin (54 files,
#   510x256 float32 each) -> $VENV/share/voxlab/kokoro-js/voices/, read by voxlab's kokoro
#   TTS engine (or point $VOXLAB_KOKORO_VOICES at another copy).
# Usage: scripts/npm_assets.sh [VENV]   (idempotent; needs npm and network to the npm registry)
set -euo pipefail
VENV=${1:-${VENV:-.venv}}
KOKORO_JS=kokoro-js@1.2.1
KOKORO_JS_SHA1=a6a9b0ffc1ab354fa3f9cb71ee95b6e9f0a13527   # the registry's shasum of the tarball
DEST="$VENV/share/voxlab/kokoro-js"

if [ -f "$DEST/.complete" ] && [ "$(cat "$DEST/.complete")" = "$KOKORO_JS" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found: Kokoro voices ($KOKORO_JS) not installed; the kokoro engine" \
       "will list only the voices shipped on PyPI (apt-get install -y npm, then rerun $0)" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "==> npm pack $KOKORO_JS (Kokoro voice styles)"
(cd "$tmp" && npm pack --silent --ignore-scripts "$KOKORO_JS" >/dev/null)
tgz=$(ls "$tmp"/kokoro-js-*.tgz)
got=$(sha1sum "$tgz" | cut -d' ' -f1)
if [ "$got" != "$KOKORO_JS_SHA1" ]; then
  echo "error: $tgz has sha1 $got, expected $KOKORO_JS_SHA1; not unpacking" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/LICENSE package/package.json --wildcards 'package/voices/*.bin'
count=$(ls "$tmp"/package/voices/*.bin | wc -l)
if [ "$count" -lt 50 ]; then
  echo "error: only $count voice files in $tgz" >&2
  exit 1
fi
rm -rf "$DEST"
mkdir -p "$DEST"
mv "$tmp/package/voices" "$tmp/package/LICENSE" "$tmp/package/package.json" "$DEST/"
echo "$KOKORO_JS" > "$DEST/.complete"
echo "    $count Kokoro voices -> $DEST/voices"
