from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf.internal import python_message as _python_message
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KuraPayload(_message.Message):
    __slots__ = ("timestamp", "position", "metric", "body")
    Extensions: _python_message._ExtensionDict
    class KuraMetric(_message.Message):
        __slots__ = ("name", "type", "double_value", "float_value", "long_value", "int_value", "bool_value", "string_value", "bytes_value")
        class ValueType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            DOUBLE: _ClassVar[KuraPayload.KuraMetric.ValueType]
            FLOAT: _ClassVar[KuraPayload.KuraMetric.ValueType]
            INT64: _ClassVar[KuraPayload.KuraMetric.ValueType]
            INT32: _ClassVar[KuraPayload.KuraMetric.ValueType]
            BOOL: _ClassVar[KuraPayload.KuraMetric.ValueType]
            STRING: _ClassVar[KuraPayload.KuraMetric.ValueType]
            BYTES: _ClassVar[KuraPayload.KuraMetric.ValueType]
        DOUBLE: KuraPayload.KuraMetric.ValueType
        FLOAT: KuraPayload.KuraMetric.ValueType
        INT64: KuraPayload.KuraMetric.ValueType
        INT32: KuraPayload.KuraMetric.ValueType
        BOOL: KuraPayload.KuraMetric.ValueType
        STRING: KuraPayload.KuraMetric.ValueType
        BYTES: KuraPayload.KuraMetric.ValueType
        NAME_FIELD_NUMBER: _ClassVar[int]
        TYPE_FIELD_NUMBER: _ClassVar[int]
        DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
        FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
        LONG_VALUE_FIELD_NUMBER: _ClassVar[int]
        INT_VALUE_FIELD_NUMBER: _ClassVar[int]
        BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
        STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
        BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
        name: str
        type: KuraPayload.KuraMetric.ValueType
        double_value: float
        float_value: float
        long_value: int
        int_value: int
        bool_value: bool
        string_value: str
        bytes_value: bytes
        def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[KuraPayload.KuraMetric.ValueType, str]] = ..., double_value: _Optional[float] = ..., float_value: _Optional[float] = ..., long_value: _Optional[int] = ..., int_value: _Optional[int] = ..., bool_value: _Optional[bool] = ..., string_value: _Optional[str] = ..., bytes_value: _Optional[bytes] = ...) -> None: ...
    class KuraPosition(_message.Message):
        __slots__ = ("latitude", "longitude", "altitude", "precision", "heading", "speed", "timestamp", "satellites", "status")
        LATITUDE_FIELD_NUMBER: _ClassVar[int]
        LONGITUDE_FIELD_NUMBER: _ClassVar[int]
        ALTITUDE_FIELD_NUMBER: _ClassVar[int]
        PRECISION_FIELD_NUMBER: _ClassVar[int]
        HEADING_FIELD_NUMBER: _ClassVar[int]
        SPEED_FIELD_NUMBER: _ClassVar[int]
        TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
        SATELLITES_FIELD_NUMBER: _ClassVar[int]
        STATUS_FIELD_NUMBER: _ClassVar[int]
        latitude: float
        longitude: float
        altitude: float
        precision: float
        heading: float
        speed: float
        timestamp: int
        satellites: int
        status: int
        def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., altitude: _Optional[float] = ..., precision: _Optional[float] = ..., heading: _Optional[float] = ..., speed: _Optional[float] = ..., timestamp: _Optional[int] = ..., satellites: _Optional[int] = ..., status: _Optional[int] = ...) -> None: ...
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    timestamp: int
    position: KuraPayload.KuraPosition
    metric: _containers.RepeatedCompositeFieldContainer[KuraPayload.KuraMetric]
    body: bytes
    def __init__(self, timestamp: _Optional[int] = ..., position: _Optional[_Union[KuraPayload.KuraPosition, _Mapping]] = ..., metric: _Optional[_Iterable[_Union[KuraPayload.KuraMetric, _Mapping]]] = ..., body: _Optional[bytes] = ...) -> None: ...
