"""Seeded in-graph noise: the rewritten RandomNormalLike equals the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from voxlab.generation.neural.engines.onnx_noise import (  # noqa: E402
    SEED_INPUT,
    counter_normal,
    seed_random_nodes,
)


def _model(op: str = "RandomNormalLike", **attrs) -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, None, None])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y", "y2")]
    nodes = [
        helper.make_node(op, ["x"], ["y"], dtype=1),
        helper.make_node(op, ["x"], ["y2"], dtype=1, **attrs),
    ]
    graph = helper.make_graph(nodes, "g", [x], outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    return model.SerializeToString()


def _run(model: bytes, shape, seed: int):
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    x = np.zeros(shape, np.float32)
    return session.run(None, {"x": x, SEED_INPUT: np.array([seed], np.int64)})


def test_rewritten_noise_equals_reference_and_is_seeded():
    model, count = seed_random_nodes(_model(mean=1.0, scale=2.0))
    assert count == 2
    y, y2 = _run(model, (1, 192, 500), seed=7)
    # same integer hash, float32 Box-Muller in both: equal to float32 rounding
    np.testing.assert_allclose(y, counter_normal((1, 192, 500), seed=7, node=0), atol=1e-5)
    np.testing.assert_allclose(
        y2, 1.0 + 2.0 * counter_normal((1, 192, 500), seed=7, node=1), atol=2e-5
    )
    again, _ = _run(model, (1, 192, 500), seed=7)
    np.testing.assert_array_equal(y, again)
    other, _ = _run(model, (1, 192, 500), seed=8)
    assert abs(np.corrcoef(y.ravel(), other.ravel())[0, 1]) < 0.02
    assert abs(np.corrcoef(y.ravel(), (y2.ravel() - 1) / 2)[0, 1]) < 0.02


def test_reference_noise_is_standard_normal():
    z = counter_normal((100_000,), seed=3).astype(np.float64)
    assert abs(z.mean()) < 0.015 and abs(z.std() - 1) < 0.015
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.015
    # tails of a normal: P(|z| > 2) = 0.0455
    assert abs(np.mean(np.abs(z) > 2) - 0.0455) < 0.004


def test_models_without_noise_are_unchanged_and_other_random_ops_refused():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    plain = helper.make_model(graph).SerializeToString()
    assert seed_random_nodes(plain) == (plain, 0)
    with pytest.raises(ValueError, match="RandomUniformLike"):
        seed_random_nodes(_model("RandomUniformLike"))
