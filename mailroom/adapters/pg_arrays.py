"""One-dimensional PostgreSQL arrays in binary, for the columns of the event insert.

psycopg chooses the dumper of a plain ``list`` anew on every call by looking at its
elements (their type, the array's oid, a dumper per element): for the insert's four short
arrays that cost about fifteen times the dumping of as many scalars, on every submission. A
column wrapped in one of these types has a fixed dumper that writes PostgreSQL's binary
array format in one pass: one lookup per parameter, as for a scalar.
"""

from __future__ import annotations

import struct
from typing import Any
from uuid import UUID

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

_HEADER = struct.Struct("!iiiii")  # dimensions, has nulls, element oid, length, lower bound
_EMPTY = struct.Struct("!iii")  # no dimensions, no nulls, element oid
_LENGTH = struct.Struct("!i")


class UuidArray(list[UUID]):
    pass


class TextArray(list[str]):
    pass


class BigintArray(list[int]):
    pass


class ByteaArray(list[bytes]):
    pass


class _ArrayDumper(Dumper):
    format = Format.BINARY
    element_oid = 0

    def element(self, value: Any) -> bytes:
        raise NotImplementedError

    def dump(self, obj: Any) -> bytes:
        if not obj:
            return _EMPTY.pack(0, 0, self.element_oid)
        parts = [_HEADER.pack(1, 0, self.element_oid, len(obj), 1)]
        for value in obj:  # the event columns have no NULLs
            data = self.element(value)
            parts += (_LENGTH.pack(len(data)), data)
        return b"".join(parts)


class _UuidArrayDumper(_ArrayDumper):
    oid, element_oid = 2951, 2950

    def element(self, value: UUID) -> bytes:
        return value.bytes


class _TextArrayDumper(_ArrayDumper):
    oid, element_oid = 1009, 25

    def element(self, value: str) -> bytes:
        return value.encode()


class _BigintArrayDumper(_ArrayDumper):
    oid, element_oid = 1016, 20
    _int8 = struct.Struct("!q")

    def element(self, value: int) -> bytes:
        return self._int8.pack(value)


class _ByteaArrayDumper(_ArrayDumper):
    oid, element_oid = 1001, 17

    def element(self, value: bytes) -> bytes:
        return bytes(value)


def register_array_dumpers(adapters: psycopg.adapt.AdaptersMap = psycopg.adapters) -> None:
    """Register the dumpers (by default for every connection made from now on)."""
    for array, dumper in (
        (UuidArray, _UuidArrayDumper),
        (TextArray, _TextArrayDumper),
        (BigintArray, _BigintArrayDumper),
        (ByteaArray, _ByteaArrayDumper),
    ):
        adapters.register_dumper(array, dumper)
