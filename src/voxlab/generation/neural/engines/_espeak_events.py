"""Helper process: libespeak-ng's phoneme events for one text (run as a script, stdlib only).

Reads a JSON request ``{"voice", "rate", "volume", "pitch", "word_gap", "text"}`` on stdin
and writes ``{"marks": [[sample, mnemonic], ...], "samples": n}`` on stdout. It runs in a
fresh process on purpose: libespeak-ng carries state from one utterance to the next (its
second call in a process comes out a few samples shorter), while the ``espeak-ng`` program
voxlab takes the audio from always starts fresh; a fresh library gives the same samples,
so the event positions are exact for that audio.

Facts of espeak-ng's public API (``speak_lib.h``): synchronous output mode 2, option flags
PHONEME_EVENTS 0x1 and DONT_EXIT 0x8000, parameters RATE 1, VOLUME 2, PITCH 3, WORDGAP 7,
event types LIST_TERMINATED 0 and PHONEME 7; an event's ``sample`` is its output position
and a phoneme event's ``id`` holds the mnemonic in 8 bytes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import sys

_LIB_NAMES = ("libespeak-ng.so.1", "libespeak-ng.so", "libespeak-ng.1.dylib")


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


def _load() -> ctypes.CDLL:
    for name in (*_LIB_NAMES, ctypes.util.find_library("espeak-ng")):
        if name:
            try:
                return ctypes.CDLL(name)
            except OSError:
                continue
    raise SystemExit("libespeak-ng not found")


def events(request: dict) -> dict:
    """The phoneme marks and sample count of one utterance (see the module docstring)."""
    lib = _load()
    uint, ptr = ctypes.c_uint, ctypes.c_void_p
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, uint, ctypes.c_int, uint,
                                 uint, ptr, ptr]  # fmt: skip
    if lib.espeak_Initialize(2, 0, None, 0x0001 | 0x8000) <= 0:
        raise SystemExit("espeak_Initialize failed")
    count, marks = [0], []

    def collect(_wav, n, evs):
        count[0] += max(n, 0)
        i = 0
        while evs[i].type != 0:
            if evs[i].type == 7:
                marks.append([int(evs[i].sample), evs[i].id.string.decode("utf-8", "replace")])
            i += 1
        return 0

    callback = _CALLBACK(collect)
    lib.espeak_SetSynthCallback(callback)
    if lib.espeak_SetVoiceByName(request["voice"].encode()) != 0:
        raise SystemExit(f"unknown voice {request['voice']}")
    for param, key in ((1, "rate"), (2, "volume"), (3, "pitch"), (7, "word_gap")):
        lib.espeak_SetParameter(param, int(request[key]), 0)
    data = request["text"].encode("utf-8") + b"\0"
    if lib.espeak_Synth(data, len(data), 0, 1, 0, 1, None, None) != 0:
        raise SystemExit("espeak_Synth failed")
    lib.espeak_Synchronize()
    return {"marks": marks, "samples": count[0]}


if __name__ == "__main__":
    json.dump(events(json.load(sys.stdin)), sys.stdout)
