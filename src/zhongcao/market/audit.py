"""Auditing external accounts: score a CSV of public-profile columns with the fake-account model.

Rows stream through in chunks, scored as arrays. A row that cannot be read gets its error in the output
instead of a score, and the rest go on: one bad line in a million-row export must not cost the others.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from zhongcao.core import Invalid
from zhongcao.market.fake_accounts import COLUMNS, Model, features, shipped

REF = "account_ref"
OUT_COLUMNS = (REF, "fake_probability", "reasons", "error")
BOOLEANS = {"1": True, "true": True, "yes": True, "t": True, "y": True,
            "0": False, "false": False, "no": False, "f": False, "n": False}
FLAGS = ("has_profile_pic", "is_private")
CHUNK = 50_000


@dataclass(frozen=True)
class AuditResult:
    rows: int
    scored: int
    errors: int
    likely_fake: int  # probability at least one half


def _parse(row: dict[str, str | None]) -> list[float]:
    """The row's eight values, or ValueError naming the first one that is not usable."""
    values = []
    for column in COLUMNS:
        raw = (row.get(column) or "").strip()
        if column in FLAGS:
            if raw.lower() not in BOOLEANS:
                raise ValueError(f"{column} is {raw!r}, not 0/1 or true/false")
            values.append(float(BOOLEANS[raw.lower()]))
            continue
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{column} is {raw!r}, not a number") from None
        if not np.isfinite(number) or number < 0 or number != int(number):
            raise ValueError(f"{column} is {raw!r}, not a whole number >= 0")
        values.append(number)
    return values


def score_rows(rows: Iterable[dict[str, str | None]], model: Model | None = None) -> Iterator[dict[str, str]]:
    """Output rows in input order: a probability and reasons, or an error."""
    model = model or shipped()
    chunk: list[dict[str, str | None]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield from _score(chunk, model)
            chunk = []
    yield from _score(chunk, model)


def _score(chunk: list[dict[str, str | None]], model: Model) -> Iterator[dict[str, str]]:
    parsed: list[list[float] | str] = []
    for row in chunk:
        try:
            parsed.append(_parse(row))
        except ValueError as exc:
            parsed.append(str(exc))
    good = [p for p in parsed if isinstance(p, list)]
    if good:
        matrix = np.array(good)
        x = features({c: matrix[:, j] for j, c in enumerate(COLUMNS)})
        probability, reasons = model.predict(x), model.reasons(x)
    k = 0
    for row, p in zip(chunk, parsed, strict=True):
        ref = (row.get(REF) or "").strip()
        if isinstance(p, str):
            yield {REF: ref, "fake_probability": "", "reasons": "", "error": p}
        else:
            yield {REF: ref, "fake_probability": f"{probability[k]:.4f}", "reasons": "; ".join(reasons[k]), "error": ""}
            k += 1


def _reader(f: TextIO, source: Path, required: tuple[str, ...]) -> csv.DictReader[str]:
    """The file's rows; refused before any is read when the header lacks a required column."""
    reader = csv.DictReader(f)
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid("invalid_accounts_file", f"{source.name} lacks the columns {', '.join(missing)}",
                      field="columns", allowed=list(required))
    return reader


def audit_csv(source: Path, target: Path, model: Model | None = None) -> AuditResult:
    """Score ``source`` into ``target``; refused before writing when the header lacks a column."""
    with source.open(newline="", encoding="utf-8-sig") as f:
        reader = _reader(f, source, (REF, *COLUMNS))
        target.parent.mkdir(parents=True, exist_ok=True)
        rows = scored = errors = fake = 0
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=OUT_COLUMNS)
            writer.writeheader()
            for result in score_rows(reader, model):
                writer.writerow(result)
                rows += 1
                if result["error"]:
                    errors += 1
                else:
                    scored += 1
                    fake += float(result["fake_probability"]) >= 0.5
    return AuditResult(rows, scored, errors, fake)


LABEL = "is_fake"


def labelled_csv(source: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Accounts with a 0/1 ``is_fake`` label, for refitting the model on real data. Unreadable rows
    are refused, naming the line: a training set must be clean."""
    with source.open(newline="", encoding="utf-8-sig") as f:
        reader = _reader(f, source, (*COLUMNS, LABEL))
        values, labels = [], []
        for line, row in enumerate(reader, start=2):
            try:
                values.append(_parse(row))
                label = (row.get(LABEL) or "").strip().lower()
                if label not in BOOLEANS:
                    raise ValueError(f"{LABEL} is {label!r}, not 0/1")
                labels.append(BOOLEANS[label])
            except ValueError as exc:
                raise Invalid("invalid_accounts_file", f"line {line}: {exc}", field=f"line {line}",
                              allowed="whole numbers >= 0 and 0/1 flags") from None
    matrix = np.array(values, dtype=np.float64).reshape(len(values), len(COLUMNS))
    return {c: matrix[:, j] for j, c in enumerate(COLUMNS)}, np.array(labels, dtype=bool)
