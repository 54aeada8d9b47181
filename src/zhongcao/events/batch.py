"""Build event batches from numpy arrays or Python lists, checked against the one schema."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongcao.core import Invalid
from zhongcao.events.schema import ARROW_SCHEMA, NAMES, REQUIRED, EventKind


def id_column(batch: pa.Table, name: str) -> np.ndarray:
    """An id column as integers, null as 0: no account, note or consumer has id 0."""
    return np.asarray(pc.fill_null(batch.column(name), 0).to_numpy())


def make_row(values: Mapping[str, Any]) -> pa.Table:
    """One event as a batch, from plain values (``None`` for null): the path of a transaction that records
    a single event, at a third of ``make_batch``'s cost."""
    unknown = set(values) - set(NAMES)
    if unknown:
        raise Invalid("invalid_event", f"unknown event columns {sorted(unknown)}", field=sorted(unknown)[0],
                      allowed=NAMES)
    missing = sorted(name for name in REQUIRED if values.get(name) is None)
    if missing:
        raise Invalid("invalid_event", f"missing required event columns {missing}", field=missing[0],
                      allowed=sorted(REQUIRED))
    if values["kind"] not in _KINDS:
        raise Invalid("invalid_event", f"unknown event kind {values['kind']}", field="kind",
                      allowed={k.name.lower(): k.value for k in EventKind})
    try:
        return pa.Table.from_pylist([values], schema=ARROW_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
        raise Invalid("invalid_event", str(exc), field="columns", allowed=str(ARROW_SCHEMA)) from None


_KINDS = frozenset(int(k) for k in EventKind)


_NULLS: dict[pa.DataType, pa.Array] = {}


def _nulls(n: int, type_: pa.DataType) -> pa.Array:
    """``n`` nulls of a type, as a slice of one kept array (Arrow arrays never change, so batches may share
    it): most of a batch's columns are absent, and zero-filling each afresh cost seconds a simulated month."""
    kept = _NULLS.get(type_)
    if kept is None or len(kept) < n:
        kept = _NULLS[type_] = pa.nulls(max(n, 2 * len(kept) if kept is not None else 1 << 16), type_)
    return kept.slice(0, n)


def make_batch(columns: Mapping[str, Any]) -> pa.Table:
    """A table with every schema column, in order; absent optional columns are null.

    Arrays may be numpy arrays, pyarrow arrays or lists (``None`` for null); a scalar is broadcast."""
    unknown = set(columns) - set(NAMES)
    if unknown:
        raise Invalid("invalid_event", f"unknown event columns {sorted(unknown)}", field=sorted(unknown)[0],
                      allowed=NAMES)
    missing = REQUIRED - set(columns)
    if missing:
        raise Invalid("invalid_event", f"missing required event columns {sorted(missing)}",
                      field=sorted(missing)[0], allowed=sorted(REQUIRED))
    n = next(len(v) for k, v in columns.items() if k in REQUIRED and not np.isscalar(v))
    arrays = []
    for field in ARROW_SCHEMA:
        value = columns.get(field.name)
        try:
            if value is None:
                arrays.append(_nulls(n, field.type))
                continue
            if np.isscalar(value) or isinstance(value, pa.Scalar):
                value = [value] * n
            array = value if isinstance(value, pa.Array) else pa.array(value, from_pandas=True)
            arrays.append(array.cast(field.type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError) as exc:
            raise Invalid("invalid_event", f"column {field.name}: {exc}", field=field.name,
                          allowed=str(field.type)) from None
        if len(arrays[-1]) != n:
            raise Invalid("invalid_event", f"column {field.name} has {len(arrays[-1])} rows, expected {n}",
                          field=field.name, allowed=f"{n} rows")
        if field.name in REQUIRED and arrays[-1].null_count:
            raise Invalid("invalid_event", f"column {field.name} may not be null", field=field.name,
                          allowed="a value in every row")
    kinds = arrays[NAMES.index("kind")].to_numpy(zero_copy_only=False)
    valid = np.isin(kinds, np.array([k.value for k in EventKind], dtype=kinds.dtype))
    if not valid.all():
        raise Invalid("invalid_event", f"unknown event kind {int(kinds[~valid][0])}", field="kind",
                      allowed={k.name.lower(): k.value for k in EventKind})
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)


# numpy's type for each schema type
_DTYPES = {pa.string(): np.dtype(object), pa.timestamp("us"): np.dtype("datetime64[us]"),
           pa.float32(): np.dtype(np.float32), pa.uint64(): np.dtype(np.uint64), pa.int64(): np.dtype(np.int64),
           pa.uint8(): np.dtype(np.uint8), pa.int16(): np.dtype(np.int16), pa.int32(): np.dtype(np.int32)}


def concat_columns(records: Sequence[tuple[int, Mapping[str, Any]]]) -> dict[str, Any]:
    """Many small sets of columns (``n`` rows each, scalars broadcast, ``None`` null) as one, ready for
    ``make_batch``: serving records a handful of events per request, and one batch of all of them costs a
    fraction of a batch each. A column given the same way by every record (all arrays, or all scalars)
    is joined in one numpy call; mixed ones go record by record."""
    counts = np.array([n for n, _ in records], dtype=np.int64)
    total = int(counts.sum())
    out: dict[str, Any] = {}
    for field in ARROW_SCHEMA:
        given = [cols.get(field.name) for _, cols in records]
        if all(v is None for v in given):
            continue
        if field.type == pa.string() and all(v is None or isinstance(v, str) for v in given):
            # a label per record (a policy, a surface's source): codes into its few values, taken in C++,
            # rather than a Python string object per row
            labels = list(dict.fromkeys(given))
            codes = np.repeat(np.array([labels.index(v) for v in given], dtype=np.int32), counts)
            out[field.name] = pc.take(pa.array(labels, type=field.type), pa.array(codes))
            continue
        dtype = _DTYPES[field.type]
        arrays = [v for v in given if isinstance(v, np.ndarray)]
        if len(arrays) == len(given):
            out[field.name] = pa.array(np.concatenate(arrays).astype(dtype, copy=False), type=field.type)
            continue
        if all(v is not None and np.isscalar(v) for v in given):
            out[field.name] = pa.array(np.repeat(np.array(given, dtype=dtype), counts), type=field.type)
            continue
        values = np.zeros(total, dtype=dtype)
        null = np.zeros(total, dtype=bool)
        at = 0
        for n, value in zip(counts.tolist(), given, strict=True):
            if value is None:
                null[at:at + n] = True
            elif isinstance(value, pa.Array | pa.ChunkedArray):
                blank = pa.scalar("" if pa.types.is_string(value.type) else 0, value.type)
                null[at:at + n] = value.is_null().to_numpy(zero_copy_only=False)
                values[at:at + n] = pc.fill_null(value, blank).to_numpy(zero_copy_only=False)
            elif isinstance(value, list):
                null[at:at + n] = [v is None for v in value]
                values[at:at + n] = [0 if v is None else v for v in value]
            else:
                values[at:at + n] = value
            at += n
        out[field.name] = pa.array(values, mask=null if null.any() else None, type=field.type)
    return out
