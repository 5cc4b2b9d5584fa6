"""Read an ONNX Runtime ``.ort`` (flatbuffer) model back into an ONNX graph.

Why: the Moonshine files in the ``moonshine-cpp`` wheel are ``.ort`` models
with int8 weights that are dequantized (``Cast`` → ``Mul`` → ``Add``) by graph
nodes. ONNX Runtime does not constant-fold an ``.ort`` model when it loads it,
so the decoder dequantized all its weights — 32,768 × 416 for the embedding
alone — at every generated token (measured: ≈ 34 ms per token, 3/4 of it
dequantization). Rebuilt as an ONNX graph, the same weights are folded to
float32 once, when the session loads, and the operators are unchanged, so the
outputs are the same up to float rounding.

Reads the flatbuffer with the schema classes that ship inside the
``onnxruntime`` wheel (``onnxruntime.tools.ort_format_model``); builds the
graph with the ``onnx`` package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["ort_to_onnx"]


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _tensor(t):
    from onnx import TensorProto, helper

    dims = [t.Dims(j) for j in range(t.DimsLength())]
    if t.DataType() == TensorProto.STRING:
        return helper.make_tensor(_s(t.Name()), TensorProto.STRING, dims, [t.StringData(j) for j in range(t.StringDataLength())])
    raw = t.RawDataAsNumpy().tobytes() if t.RawDataLength() else b""
    return helper.make_tensor(_s(t.Name()), t.DataType(), dims, raw, raw=True)


def _value_info(v):
    from onnx import helper

    info = v.Type()
    name = _s(v.Name())
    if info is None or info.ValueType() != 1:  # not a tensor: no type information kept
        return helper.make_empty_tensor_value_info(name)
    from onnxruntime.tools.ort_format_model.ort_flatbuffers_py.fbs.TensorTypeAndShape import TensorTypeAndShape

    tts = TensorTypeAndShape()
    table = info.Value()
    tts.Init(table.Bytes, table.Pos)
    shape = tts.Shape()
    dims = None
    if shape is not None:
        dims = []
        for j in range(shape.DimLength()):
            d = shape.Dim(j).Value()
            if d is None:
                dims.append(None)
            elif d.DimType() == 1:
                dims.append(int(d.DimValue()))
            else:
                dims.append(_s(d.DimParam()) or None)
    return helper.make_tensor_value_info(name, tts.ElemType(), dims)


def _attribute(a):
    from onnx import AttributeProto, helper

    name, kind = _s(a.Name()), a.Type()
    if kind == AttributeProto.FLOAT:
        return helper.make_attribute(name, a.F())
    if kind == AttributeProto.INT:
        return helper.make_attribute(name, a.I())
    if kind == AttributeProto.STRING:
        return helper.make_attribute(name, a.S())
    if kind == AttributeProto.TENSOR:
        return helper.make_attribute(name, _tensor(a.T()))
    if kind == AttributeProto.GRAPH:
        return helper.make_attribute(name, _graph(a.G(), _s(a.Name())))
    if kind == AttributeProto.FLOATS:
        return helper.make_attribute(name, [a.Floats(j) for j in range(a.FloatsLength())], attr_type=AttributeProto.FLOATS)
    if kind == AttributeProto.INTS:
        return helper.make_attribute(name, [a.Ints(j) for j in range(a.IntsLength())], attr_type=AttributeProto.INTS)
    if kind == AttributeProto.STRINGS:
        return helper.make_attribute(name, [a.Strings(j) for j in range(a.StringsLength())], attr_type=AttributeProto.STRINGS)
    if kind == AttributeProto.TENSORS:
        return helper.make_attribute(name, [_tensor(a.Tensors(j)) for j in range(a.TensorsLength())], attr_type=AttributeProto.TENSORS)
    if kind == AttributeProto.GRAPHS:
        return helper.make_attribute(name, [_graph(a.Graphs(j), name) for j in range(a.GraphsLength())], attr_type=AttributeProto.GRAPHS)
    raise ValueError(f"attribute {name!r}: type {kind} is not supported")


def _graph(g, name: str):
    from onnx import helper

    args = {}
    for j in range(g.NodeArgsLength()):
        v = g.NodeArgs(j)
        args[_s(v.Name())] = v
    initializers = [_tensor(g.Initializers(j)) for j in range(g.InitializersLength())]
    if g.SparseInitializersLength():
        raise ValueError("sparse initializers are not supported")
    nodes = []
    for j in range(g.NodesLength()):
        n = g.Nodes(j)
        if n.Type() != 0:  # fused nodes exist only in optimized (runtime-specific) graphs
            raise ValueError(f"node {_s(n.Name())!r} is a fused node; only plain graphs can be read back")
        nodes.append(
            helper.make_node(
                _s(n.OpType()),
                [_s(n.Inputs(k)) for k in range(n.InputsLength())],
                [_s(n.Outputs(k)) for k in range(n.OutputsLength())],
                name=_s(n.Name()),
                domain=_s(n.Domain()),
            )
        )
        nodes[-1].attribute.extend(_attribute(n.Attributes(k)) for k in range(n.AttributesLength()))
    inputs = [_s(g.Inputs(j)) for j in range(g.InputsLength())]
    outputs = [_s(g.Outputs(j)) for j in range(g.OutputsLength())]
    init_names = {t.name for t in initializers}
    graph = helper.make_graph(
        nodes,
        name,
        [_value_info(args[i]) for i in inputs if i not in init_names],
        [_value_info(args[o]) for o in outputs],
        initializers,
    )
    known = set(inputs) | set(outputs) | init_names
    graph.value_info.extend(_value_info(v) for k, v in args.items() if k not in known and v.Type() is not None)
    return graph


def ort_to_onnx(path: str | Path):
    """The ONNX ``ModelProto`` of an ``.ort`` model file.

    Parameters
    ----------
    path : str or Path
        An ``.ort`` file saved without runtime-specific (fused) optimizations.

    Returns
    -------
    onnx.ModelProto

    Raises
    ------
    ValueError
        The file holds constructs that have no plain ONNX form (fused nodes, sparse initializers).
    """
    from onnx import helper
    from onnxruntime.tools.ort_format_model.ort_flatbuffers_py.fbs.InferenceSession import InferenceSession

    buf = bytearray(Path(path).read_bytes())
    model = InferenceSession.GetRootAsInferenceSession(buf, 0).Model()
    opsets = [helper.make_opsetid(_s(model.OpsetImport(j).Domain()), model.OpsetImport(j).Version()) for j in range(model.OpsetImportLength())]
    proto = helper.make_model(_graph(model.Graph(), "main"), opset_imports=opsets, producer_name=_s(model.ProducerName()))
    proto.ir_version = model.IrVersion()
    return proto


def _demo() -> None:  # pragma: no cover - manual check
    import sys

    m = ort_to_onnx(sys.argv[1])
    print(len(m.graph.node), "nodes", len(m.graph.initializer), "initializers", np.sum([len(t.raw_data) for t in m.graph.initializer]) / 1e6, "MB")


if __name__ == "__main__":  # pragma: no cover
    _demo()
