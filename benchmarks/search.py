"""Search latency and throughput over the 62,774 real reviews and a synthetic corpus, against raw tantivy.

Raw tantivy, in the same run, executes the very queries our layer builds (prepared beforehand) and
fetches the same note ids; the difference is what our tokenizing, query building and relaxing cost.
The synthetic corpus recombines clauses of the real reviews, so its vocabulary stays real.

    uv run python benchmarks/search.py [--synthetic 1000000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from zhongcao.content import NoteDoc, SearchIndex

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "reviews_zh_10cats.csv"
QUERIES = ["洗发水 去屑", "头皮 止痒", "酒店 早餐", "前台 服务", "热水器 安装", "蒙牛 牛奶", "酸奶 口感", "衣服 尺码",
           "平板 屏幕", "水果 新鲜", "书籍 作者", "电脑 散热", "手机 电池", "充电 发热", "物流 很快", "性价比 高",
           "安装", "质量 不错 推荐", "客服 态度 差", "包装 破损"]
T0 = 1_767_225_600


def timed(fn: Any, repeat: int) -> np.ndarray:
    out = []
    for _ in range(repeat):
        for q in QUERIES:
            t = time.perf_counter()
            fn(q)
            out.append(time.perf_counter() - t)
    return np.array(out) * 1000


def measure(idx: SearchIndex, repeat: int) -> dict[str, Any]:
    prepared = {q: (idx.build_query(q, strict=True), idx.build_query(q, strict=False)) for q in QUERIES}
    searcher = idx._searcher

    def raw(q: str) -> list[int]:
        strict, relaxed = prepared[q]
        result = searcher.search(strict, limit=10, count=True)
        if result.count < 10:  # type: ignore[attr-defined]
            result = searcher.search(relaxed, limit=10, count=True)
        return [searcher.doc(addr)["note_id"][0] for _, addr in result.hits]

    timed(lambda q: idx.match(q, 10), 2)  # warm up
    ours = timed(lambda q: idx.match(q, 10), repeat)
    base = timed(raw, repeat)
    return {"queries": len(ours), "p50_ms": round(float(np.percentile(ours, 50)), 3),
            "p99_ms": round(float(np.percentile(ours, 99)), 3), "qps_one_thread": round(1000 / float(ours.mean())),
            "raw_tantivy_p50_ms": round(float(np.percentile(base, 50)), 3),
            "raw_tantivy_p99_ms": round(float(np.percentile(base, 99)), 3),
            "overhead_vs_raw_tantivy": round(float(ours.mean() / base.mean()) - 1, 3)}


def build(docs: list[NoteDoc], folder: str) -> tuple[SearchIndex, float]:
    idx = SearchIndex(folder)
    t = time.perf_counter()
    for start in range(0, len(docs), 50_000):
        idx.add(docs[start:start + 50_000], commit=False)
    idx.add([], commit=True)
    return idx, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if not DATA.exists():
        print(json.dumps({"skipped": f"no review corpus at {DATA}"}))
        return
    with DATA.open(encoding="utf-8-sig") as f:
        reviews = [r["review"] or "" for r in csv.DictReader(f)]
    out: dict[str, Any] = {"goal": {"p99_ms_at_1M": 10, "overhead_vs_raw_tantivy": 0.25}}
    real = [NoteDoc(i + 1, "", text, [], 1, 0, T0) for i, text in enumerate(reviews)]
    with tempfile.TemporaryDirectory() as d:
        idx, seconds = build(real, f"{d}/real")
        out["real"] = {"notes": idx.num_docs, "index_notes_per_s": round(len(real) / seconds),
                       **measure(idx, args.repeat)}
    if args.synthetic:
        clauses = [c for text in reviews for c in re.split(r"[，。！？!?,.；;]", text) if len(c) >= 4]
        rng = np.random.default_rng(0)
        picks = rng.integers(0, len(clauses), size=(args.synthetic, 6))
        lengths = rng.integers(2, 7, size=args.synthetic)
        synthetic = [NoteDoc(i + 1, clauses[row[0]], "，".join(clauses[c] for c in row[1:n]), [], 1 + i % 2, i % 20,
                             T0 + i) for i, (row, n) in enumerate(zip(picks, lengths, strict=True))]
        with tempfile.TemporaryDirectory() as d:
            idx, seconds = build(synthetic, f"{d}/synthetic")
            out["synthetic"] = {"notes": idx.num_docs, "index_notes_per_s": round(len(synthetic) / seconds),
                                **measure(idx, args.repeat)}
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
