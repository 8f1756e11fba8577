"""Seeded noise for exported ONNX generators (VITS/Piper draw their noise inside the graph).

A VITS model exported to ONNX draws its noise with ``RandomNormalLike`` nodes. onnxruntime
keeps one random generator per node, seeded when the session is built and advanced on
every run, so the same text gives different audio each call and no seed can be passed.
:func:`seed_random_nodes` rewrites each such node into a *counter-based* generator: the
noise at flat position ``i`` of node ``k`` is a pure function of ``(seed, k, i)``, computed
with integer hashing and the Box-Muller transform from ordinary ONNX ops (opset >= 11, no
custom ops). The rewritten model takes one extra input, :data:`SEED_INPUT` (``int64[1]``);
same seed -> same samples, whatever ran before, and a new seed costs nothing (no new
session).

The hash works on integers below the prime ``P = 2**31 - 1`` held in int64 (every
product stays below 2**63): ``h = (i * K1 + (seed mod P) * K2 + k * K3 + C) mod P``, then
three rounds of ``h = (h * h + R_r) mod P; h = (h * 48271 + h // 2**16) mod P`` (squaring
modulo a prime is what makes it non-linear); the top 24 bits of ``h`` give a uniform in
(0, 1). Two uniforms per value feed Box-Muller. Measured on 200k draws: mean, std, lag-1
and cross-seed correlations within sampling error, Kolmogorov-Smirnov p > 0.4.
:func:`counter_normal` is the same computation in numpy (the tests compare the two).
"""

from __future__ import annotations

import numpy as np

#: Name of the extra graph input (``int64``, shape ``[1]``).
SEED_INPUT = "voxlab_seed"

_P = 2**31 - 1
_K1, _K2, _K3, _C = 0x2545F49, 0x6C8E9CF, 0x1B87359, 12345
_ROUND_ADD = (0x9E3779B, 0x9E3779B + 7919, 0x9E3779B + 2 * 7919)
_LEHMER = 48271


def _hash_np(counter: np.ndarray, seed: int, node: int) -> np.ndarray:
    h = (counter * _K1 + (seed % _P) * _K2 + (node * _K3 + _C) % _P) % _P
    for add in _ROUND_ADD:
        h = (h * h + add) % _P
        h = (h * _LEHMER + h // 65536) % _P
    return h


def session_options():
    """Session options for the engines: default thread count, no busy-waiting.

    onnxruntime's worker threads spin while they wait for work; on a machine whose cores
    are shared (corpus workers, other jobs) that slows synthesis down (Kokoro, one
    sentence on a 2-core machine at load 15, interleaved medians of 4 runs: 19.4 s with
    spinning, 13.5 s without; Piper in benchmarks/tts_engines.py: 0.45x the time of
    piper-tts's own session), and costs little when the machine is idle.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


def counter_normal(shape: tuple[int, ...], *, seed: int, node: int = 0) -> np.ndarray:
    """Standard normal noise of ``shape`` exactly as the rewritten graph draws it.

    Args:
        shape: Output shape.
        seed: The seed fed to :data:`SEED_INPUT` (non-negative).
        node: Index of the random node in graph order.

    Returns:
        float32 noise. Shape: ``shape``.
    """
    n = int(np.prod(shape))
    idx = np.arange(n, dtype=np.int64)
    u1 = ((_hash_np(2 * idx, seed, node) // 128).astype(np.float32) + 0.5) / 2**24
    u2 = ((_hash_np(2 * idx + 1, seed, node) // 128).astype(np.float32) + 0.5) / 2**24
    radius = np.sqrt(-2.0 * np.log(u1))
    return (radius * np.cos(np.float32(2 * np.pi) * u2)).astype(np.float32).reshape(shape)


def seed_random_nodes(model_bytes: bytes) -> tuple[bytes, int]:
    """Rewrites every ``RandomNormalLike`` of a model into seeded counter-based noise.

    Args:
        model_bytes: A serialized ONNX model.

    Returns:
        ``(new model bytes, number of nodes rewritten)``; the model is unchanged (and takes
        no seed input) when it has no random nodes.

    Raises:
        ValueError: The model uses other random ops (``RandomUniformLike``...) that this
            rewrite does not cover.
    """
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    other = {n.op_type for n in graph.node if n.op_type.startswith("Random")}
    other.discard("RandomNormalLike")
    if other:
        raise ValueError(f"unsupported random ops in the model: {sorted(other)}")
    targets = [n for n in graph.node if n.op_type == "RandomNormalLike"]
    if not targets:
        return model_bytes, 0

    def const(name: str, value, dtype=np.int64) -> str:
        graph.initializer.append(
            onnx.numpy_helper.from_array(np.asarray(value, dtype=dtype), name=name)
        )
        return name

    p = "voxlab_noise"
    prime = const(f"{p}/prime", _P)
    c16 = const(f"{p}/c16", 65536)
    c128 = const(f"{p}/c128", 128)
    k1, k2 = const(f"{p}/k1", _K1), const(f"{p}/k2", _K2)
    lehmer = const(f"{p}/lehmer", _LEHMER)
    adds = [const(f"{p}/add{r}", add) for r, add in enumerate(_ROUND_ADD)]
    zero, one, two = const(f"{p}/zero", 0), const(f"{p}/one", 1), const(f"{p}/two", 2)
    half = const(f"{p}/half", 0.5, np.float32)
    inv24 = const(f"{p}/inv24", 1.0 / 2**24, np.float32)
    minus2 = const(f"{p}/minus2", -2.0, np.float32)
    tau = const(f"{p}/tau", 2 * np.pi, np.float32)
    graph.input.append(helper.make_tensor_value_info(SEED_INPUT, TensorProto.INT64, [1]))

    replacements = []
    seed_term = f"{p}/seed_term"
    head = [
        helper.make_node("Mod", [SEED_INPUT, prime], [f"{p}/seed_mod"]),
        helper.make_node("Mul", [f"{p}/seed_mod", k2], [f"{p}/seed_k2"]),
        helper.make_node("Mod", [f"{p}/seed_k2", prime], [seed_term]),
    ]

    def hash_nodes(tag: str, counter: str, offset: str) -> tuple[list, str]:
        nodes = [
            helper.make_node("Mul", [counter, k1], [f"{tag}/a"]),
            helper.make_node("Add", [f"{tag}/a", offset], [f"{tag}/b"]),
            helper.make_node("Mod", [f"{tag}/b", prime], [f"{tag}/h0"]),
        ]
        h = f"{tag}/h0"
        for r, add in enumerate(adds):
            t = f"{tag}/r{r}"
            nodes += [
                helper.make_node("Mul", [h, h], [f"{t}/sq"]),
                helper.make_node("Add", [f"{t}/sq", add], [f"{t}/sqa"]),
                helper.make_node("Mod", [f"{t}/sqa", prime], [f"{t}/q"]),
                helper.make_node("Mul", [f"{t}/q", lehmer], [f"{t}/l"]),
                helper.make_node("Div", [f"{t}/q", c16], [f"{t}/hi"]),
                helper.make_node("Add", [f"{t}/l", f"{t}/hi"], [f"{t}/s"]),
                helper.make_node("Mod", [f"{t}/s", prime], [f"{t}/h"]),
            ]
            h = f"{t}/h"
        nodes += [
            helper.make_node("Div", [h, c128], [f"{tag}/top24"]),
            helper.make_node("Cast", [f"{tag}/top24"], [f"{tag}/f"], to=TensorProto.FLOAT),
            helper.make_node("Add", [f"{tag}/f", half], [f"{tag}/fh"]),
            helper.make_node("Mul", [f"{tag}/fh", inv24], [f"{tag}/u"]),
        ]
        return nodes, f"{tag}/u"

    for index, node in enumerate(targets):
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("dtype", TensorProto.FLOAT) != TensorProto.FLOAT:
            raise ValueError(f"RandomNormalLike node {node.name!r} is not float32")
        tag = f"{p}/n{index}"
        offset = const(f"{tag}/node_term", (index * _K3 + _C) % _P)
        nodes = [
            helper.make_node("Shape", [node.input[0]], [f"{tag}/shape"]),
            helper.make_node("ReduceProd", [f"{tag}/shape"], [f"{tag}/n"], keepdims=0),
            helper.make_node("Range", [zero, f"{tag}/n", one], [f"{tag}/idx"]),
            helper.make_node("Mul", [f"{tag}/idx", two], [f"{tag}/even"]),
            helper.make_node("Add", [f"{tag}/even", one], [f"{tag}/odd"]),
            helper.make_node("Add", [seed_term, offset], [f"{tag}/off"]),
        ]
        h1, u1 = hash_nodes(f"{tag}/u1", f"{tag}/even", f"{tag}/off")
        h2, u2 = hash_nodes(f"{tag}/u2", f"{tag}/odd", f"{tag}/off")
        nodes += h1 + h2
        mean, scale = float(attrs.get("mean", 0.0)), float(attrs.get("scale", 1.0))
        z = f"{tag}/z"
        nodes += [
            helper.make_node("Log", [u1], [f"{tag}/log"]),
            helper.make_node("Mul", [f"{tag}/log", minus2], [f"{tag}/m2log"]),
            helper.make_node("Sqrt", [f"{tag}/m2log"], [f"{tag}/radius"]),
            helper.make_node("Mul", [u2, tau], [f"{tag}/angle"]),
            helper.make_node("Cos", [f"{tag}/angle"], [f"{tag}/cos"]),
            helper.make_node("Mul", [f"{tag}/radius", f"{tag}/cos"], [z]),
        ]
        if scale != 1.0 or mean != 0.0:
            sc = const(f"{tag}/scale", scale, np.float32)
            mu = const(f"{tag}/mean", mean, np.float32)
            nodes += [
                helper.make_node("Mul", [z, sc], [f"{tag}/zs"]),
                helper.make_node("Add", [f"{tag}/zs", mu], [f"{tag}/zm"]),
            ]
            z = f"{tag}/zm"
        nodes.append(helper.make_node("Reshape", [z, f"{tag}/shape"], [node.output[0]]))
        replacements.append((node.name, node.output[0], nodes))

    # Topological order: the seed nodes first, each replacement where its node was.
    by_output = {out: nodes for _, out, nodes in replacements}
    rebuilt = list(head)
    for node in graph.node:
        if node.op_type == "RandomNormalLike":
            rebuilt.extend(by_output[node.output[0]])
        else:
            rebuilt.append(node)
    del graph.node[:]
    graph.node.extend(rebuilt)
    return model.SerializeToString(), len(targets)
