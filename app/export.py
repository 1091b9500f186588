"""Exports of the current view. CSV cells that a spreadsheet would run as a formula are
prefixed with ': report fields are written by strangers."""

from __future__ import annotations

import io

import polars as pl

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        [pl.col(name).cast(pl.List(pl.String)).list.join(", ") for name, kind in frame.schema.items() if isinstance(kind, pl.List)]
    )


def to_csv(frame: pl.DataFrame) -> str:
    flat = _flat(frame)
    neutralised = [
        pl.when(pl.col(name).str.slice(0, 1).is_in(list(_FORMULA_START)))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, kind in flat.schema.items()
        if kind == pl.String
    ]
    return flat.with_columns(neutralised).write_csv() if neutralised else flat.write_csv()


def to_json(frame: pl.DataFrame) -> str:
    return frame.write_json()


def to_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()
