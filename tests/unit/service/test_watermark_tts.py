"""Watermark and TTS endpoints: marks round-trip, labels present, the key never leaves."""

from __future__ import annotations

import json

from tests.unit.service.conftest import PARITY, auth


def test_embed_then_detect_finds_the_payload_and_never_returns_the_key(service):
    from voxlab.watermark import WatermarkKey

    client, token, app = service
    audio = (PARITY / "espeak_enus_long_16k.flac").read_bytes()
    marked = client.post(
        "/v1/watermark/embed", files={"file": ("call.flac", audio)},
        data={"payload": "0badc0de"}, headers=auth(token),
    )  # fmt: skip
    assert marked.status_code == 200
    summary = json.loads(marked.headers["x-voxlab-watermark"])
    assert summary["payload"] == "0badc0de" and summary["snr_db"] > 10
    assert marked.content[:4] == b"fLaC"
    found = client.post(
        "/v1/watermark/detect", files={"file": ("marked.flac", marked.content)},
        headers=auth(token),
    ).json()  # fmt: skip
    assert found["marked"] and found["payload"] == "0badc0de" and found["ai_label"]
    clean = client.post(
        "/v1/watermark/detect", files={"file": ("clean.flac", audio)}, headers=auth(token)
    ).json()
    assert not clean["marked"] and not clean["ai_label"]
    key = WatermarkKey.load(app.state.voxlab.config.watermark_key)
    secret = key.secret.hex()
    assert secret not in json.dumps(dict(marked.headers)) + json.dumps([found, clean])


def test_tts_returns_a_labelled_file(service, espeak):
    from voxlab.watermark.provenance import system_payload

    client, token, _ = service
    response = client.post(
        "/v1/tts", json={"text": "Testing the voxlab service.", "variant": "f3"},
        headers=auth(token),
    )  # fmt: skip
    assert response.status_code == 200 and response.content[:4] == b"RIFF"
    info = json.loads(response.headers["x-voxlab-generated"])
    assert info["system"] == "espeak-ng" and info["duration"] > 0.5
    found = client.post(
        "/v1/watermark/detect", files={"file": ("tts.wav", response.content)},
        headers=auth(token),
    ).json()  # fmt: skip
    assert found["marked"] and found["ai_label"]
    assert found["payload"] == f"{system_payload('espeak-ng'):08x}"
    bad = client.post("/v1/tts", json={"text": ""}, headers=auth(token))
    assert bad.status_code == 422
