"""The few ONNX messages the encoder graph needs, written straight to protobuf bytes.

rag.model.runtime builds its graph in every process that answers. The `onnx`
package would do this, but importing it costs about 0.9 s (it pulls
ml_dtypes and protobuf) against 0.1 s for onnxruntime, and a one-shot `rag ask`
pays that before its first word. The messages used are small and stable
(onnx/onnx.proto: ModelProto, GraphProto, NodeProto, AttributeProto,
TensorProto, ValueInfoProto), so they are written here by field number;
tests/test_runtime.py checks the bytes against `onnx.helper` where onnx is installed.
"""

from __future__ import annotations

import numpy as np

IR_VERSION = 8  # onnxruntime reads IR 3..10; 8 goes with opset 17
FLOAT, INT64 = 1, 7  # TensorProto.DataType
_DTYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.int64): INT64}


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1  # negative int64 values go as ten-byte two's complement
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _str(field: int, s: str) -> bytes:
    return _bytes(field, s.encode("utf-8"))


def _float(field: int, x: float) -> bytes:
    return _key(field, 5) + np.float32(x).tobytes()


def tensor(name: str, a: np.ndarray) -> bytes:
    """TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian)."""
    a = np.asarray(a)  # not ascontiguousarray: it turns a scalar into shape (1,)
    kind = _DTYPES[a.dtype]
    return (b"".join(_int(1, d) for d in a.shape) + _int(2, kind) + _str(8, name)
            + _bytes(9, a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes(order="C")))


def external(name: str, a: np.ndarray) -> bytes:
    """TensorProto of `a`'s type and shape whose data the session is given apart
    (SessionOptions.add_external_initializers): dims (1), data_type (2), name (8),
    external_data (13: key 1, value 2), data_location (14, EXTERNAL = 1). The
    location is never read: the data comes from the array, handed over as an OrtValue."""
    entry = lambda k, v: _bytes(13, _str(1, k) + _str(2, v))  # noqa: E731
    return (b"".join(_int(1, d) for d in a.shape) + _int(2, _DTYPES[a.dtype]) + _str(8, name)
            + entry("location", "memory") + entry("offset", "0") + entry("length", str(a.nbytes)) + _int(14, 1))


def attribute(name: str, value) -> bytes:
    """AttributeProto: name (1), f (2), i (3), ints (8), type (20: FLOAT 1, INT 2, INTS 7)."""
    if isinstance(value, float):
        return _str(1, name) + _float(2, value) + _int(20, 1)
    if isinstance(value, int):
        return _str(1, name) + _int(3, value) + _int(20, 2)
    return _str(1, name) + b"".join(_int(8, v) for v in value) + _int(20, 7)


def node(op_type: str, inputs: list[str], outputs: list[str], name: str, **attrs) -> bytes:
    """NodeProto: input (1), output (2), name (3), op_type (4), attribute (5), in the default domain."""
    return (b"".join(_str(1, i) for i in inputs) + b"".join(_str(2, o) for o in outputs) + _str(3, name)
            + _str(4, op_type) + b"".join(_bytes(5, attribute(k, v)) for k, v in sorted(attrs.items())))


def value_info(name: str, elem_type: int, dims: list) -> bytes:
    """ValueInfoProto name (1), type (2) -> TypeProto.tensor_type (1) -> elem_type (1), shape (2) ->
    dim (1) -> dim_value (1) or dim_param (2)."""
    shape = b"".join(_bytes(1, _int(1, d) if isinstance(d, int) else _str(2, d)) for d in dims)
    return _str(1, name) + _bytes(2, _bytes(1, _int(1, elem_type) + _bytes(2, shape)))


def model(nodes: list[bytes], name: str, inputs: list[bytes], outputs: list[bytes], initializers: list[bytes],
          opset: int, producer: str) -> bytes:
    """ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8: domain 1, version 2).
    GraphProto: node (1), name (2), initializer (5), input (11), output (12)."""
    graph = (b"".join(_bytes(1, n) for n in nodes) + _str(2, name) + b"".join(_bytes(5, t) for t in initializers)
             + b"".join(_bytes(11, i) for i in inputs) + b"".join(_bytes(12, o) for o in outputs))
    return _int(1, IR_VERSION) + _str(2, producer) + _bytes(7, graph) + _bytes(8, _str(1, "") + _int(2, opset))
