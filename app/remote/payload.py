"""KuraPayload in and out: the protobuf of Kura's own kurapayload.proto, gzip sniffed on input by
its magic and used on output only when it is on and makes the payload smaller.

``kurapayload_pb2.py`` (and its ``.pyi``) are generated, never edited. To regenerate them after
a change of ``kurapayload.proto`` (a copy of Kura's), with grpcio-tools of the protobuf major
version pinned in pyproject.toml::

    cd app/remote && python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. kurapayload.proto
"""

from __future__ import annotations

import gzip
import time
import zlib
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError, EncodeError

from app.remote.kurapayload_pb2 import KuraPayload

_Metric = KuraPayload.KuraMetric
GZIP_MAGIC = b"\x1f\x8b"
# A request larger than this once unpacked is not a request: a gzip bomb stops here.
MAX_UNPACKED = 16 * 1024 * 1024


class Long(int):
    """A metric value to send as INT64 even when it would fit an INT32 (epoch milliseconds)."""


MetricValue = bool | int | float | str | bytes


@dataclass
class Payload:
    """One KuraPayload: its metrics (by name, typed by their Python type), body, timestamp."""

    metrics: dict[str, MetricValue] = field(default_factory=dict)
    body: bytes = b""
    timestamp: int | None = None  # epoch milliseconds

    def text_metric(self, name: str) -> str | None:
        """A metric that must be a STRING (``request.id``): None when absent or another type."""
        value = self.metrics.get(name)
        return value if isinstance(value, str) else None


def _to_metric(name: str, value: MetricValue) -> _Metric:
    if isinstance(value, bool):
        return _Metric(name=name, type=_Metric.BOOL, bool_value=value)
    if isinstance(value, int):
        if not isinstance(value, Long) and -(2 ** 31) <= value < 2 ** 31:
            return _Metric(name=name, type=_Metric.INT32, int_value=value)
        return _Metric(name=name, type=_Metric.INT64, long_value=int(value))
    if isinstance(value, float):
        return _Metric(name=name, type=_Metric.DOUBLE, double_value=value)
    if isinstance(value, bytes):
        return _Metric(name=name, type=_Metric.BYTES, bytes_value=value)
    return _Metric(name=name, type=_Metric.STRING, string_value=value)


def _from_metric(metric: _Metric) -> MetricValue:
    kind = metric.type
    if kind == _Metric.BOOL:
        return metric.bool_value
    if kind == _Metric.INT32:
        return metric.int_value
    if kind == _Metric.INT64:
        return Long(metric.long_value)
    if kind == _Metric.DOUBLE:
        return metric.double_value
    if kind == _Metric.FLOAT:
        return metric.float_value
    if kind == _Metric.BYTES:
        return metric.bytes_value
    return metric.string_value


def encode(payload: Payload, *, gzip_ok: bool = False) -> bytes:
    """The payload's bytes; gzip only when ``gzip_ok`` and it makes them smaller (Kura's rule)."""
    message = KuraPayload()
    if payload.timestamp is not None:
        message.timestamp = payload.timestamp
    for name, value in payload.metrics.items():
        message.metric.append(_to_metric(name, value))
    if payload.body:
        message.body = payload.body
    try:
        data = message.SerializeToString()
    except EncodeError as exc:  # a required field unset: a bug, never the sender's fault
        raise ValueError(f"a payload could not be encoded: {exc}") from exc
    if gzip_ok:
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        if len(packed) < len(data):
            return packed
    return data


def _gunzip(data: bytes) -> bytes | None:
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, MAX_UNPACKED)
        if inflater.unconsumed_tail:
            return None
        return out
    except zlib.error:
        return None


def decode(data: bytes) -> Payload:
    """The payload in ``data`` (gzip detected by its magic). Bytes that are not a KuraPayload
    become a body-only payload, as in Kura: it has no request ids, so it is no request."""
    raw = data
    if data[:2] == GZIP_MAGIC:
        unpacked = _gunzip(data)
        if unpacked is None:
            return Payload(body=data)
        raw = unpacked
    message = KuraPayload()
    try:
        message.ParseFromString(raw)
    except (DecodeError, RuntimeWarning, ValueError):
        return Payload(body=data)
    metrics = {m.name: _from_metric(m) for m in message.metric}
    return Payload(metrics, message.body, message.timestamp if message.HasField("timestamp")
                   else None)


def now_ms() -> int:
    return int(time.time() * 1000)
