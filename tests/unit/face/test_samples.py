"""voxlab.face.samples: package-shipped faces (messi BSD-3, hopper and astronaut public domain)."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.face import samples
from voxlab.face.errors import FaceError


@pytest.mark.parametrize("name", ["messi", "hopper", "astronaut"])
def test_each_sample_face_loads_centred_with_a_licence(name, landmarker):
    entry = samples.SAMPLE_FACES[name]
    assert entry.licence and ("BSD" in entry.licence or "public domain" in entry.licence)
    if name not in samples.available():
        pytest.skip(f"{entry.path} missing ({entry.install})")
    face = samples.load_face(name)
    assert face.shape == (320, 320, 3) and face.dtype == np.uint8
    first = face[0, 0].tolist()
    face[0, 0] = 255 - face[0, 0]  # a writable copy: the cache is not touched
    assert samples.load_face(name)[0, 0].tolist() == first
    found = landmarker.faces(face)
    assert found, f"{name}: the crop lost the face"
    centre = found[0].points.mean(0)
    assert np.all(np.abs(centre - 160) < 60), f"{name}: face centre {centre} far from the middle"


def test_missing_package_names_what_to_install(monkeypatch, tmp_path):
    gone = samples.SampleFace(
        name="astronaut",
        locate=lambda: tmp_path / "astronaut.png",
        install="pip install scikit-image",
        licence="public domain",
    )
    monkeypatch.setitem(samples.SAMPLE_FACES, "astronaut", gone)
    with pytest.raises(samples.SampleFaceMissingError, match="pip install scikit-image") as exc:
        samples.load_face("astronaut")
    assert "astronaut.png" in str(exc.value)
    assert "astronaut" not in samples.available()


def test_uninstalled_module_path_does_not_exist():
    assert not samples._package_file("voxlab_no_such_module", "x.png").is_file()


def test_unknown_name_and_tiny_size_are_clear_errors():
    with pytest.raises(FaceError, match="messi, hopper, astronaut"):
        samples.load_face("lena")
    with pytest.raises(FaceError, match=">= 64"):
        samples.load_face("hopper", size=16)


def test_crop_box_stays_inside_the_image():
    pts = np.array([[5.0, 5.0], [45.0, 50.0]], dtype=np.float32)
    left, top, side = samples.crop_box(pts, (100, 80, 3), context=3.0)
    assert side == 80 and left == 0 and 0 <= top <= 20
