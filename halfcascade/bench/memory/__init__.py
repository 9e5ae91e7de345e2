"""``halfcascade bench memory``: recall quality and latency of the memory stores.

::

    halfcascade bench memory --eval --sizes 1000 10000 --json eval.json
    halfcascade bench memory --sizes 1000 10000 100000        # latency + TTFA (as before)

``--eval`` runs the evidence-recall evaluation (``corpus.py`` generates the conversations,
``--corpus dialogue`` the two-friend dialogues of ``corpus_dialogue.py`` instead,
``evaluate.py`` asks the questions through the public API, ``run_eval.py`` compares stores
and ranking options). Without it, the latency benchmark of ``latency.py`` runs: recall
p50/p95 by size, and time to first audio with memory on and off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .latency import percentiles, print_table, recall_bench, ttfa_bench
from .run_eval import CORPORA, RANKERS, STORES, eval_bench

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="halfcascade bench memory")
    parser.add_argument("--eval", action="store_true", help="recall quality (evidence recall@k)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help="memories per user (default: 1000 10000 100000)",
    )
    parser.add_argument("--stores", default=",".join(STORES), help="eval: sqlite,postgres")
    parser.add_argument(
        "--rankers",
        default="bm25,default,no-context,no-diversity",
        help=f"eval: comma-separated, of {','.join(RANKERS)}",
    )
    parser.add_argument("--questions", type=int, default=None, help="eval: most per user")
    parser.add_argument("--seed", type=int, default=13, help="eval: corpus seed")
    parser.add_argument(
        "--corpus",
        choices=list(CORPORA),
        default="companion",
        help="eval: companion conversations, or dialogue (two friends, LoCoMo-style)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the rows to this file")
    parser.add_argument("--queries", type=int, default=200, help="latency: queries per size")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--rounds", type=int, default=2, help="TTFA: passes over the script")
    parser.add_argument("--ttfa-memories", type=int, default=10000)
    parser.add_argument("--no-ttfa", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """The command line (``halfcascade bench memory --help``)."""
    args = _parser().parse_args(argv)
    sizes = args.sizes or [1000, 10000, 100000]
    if args.eval:
        stores = [
            s for s in args.stores.split(",") if s and not (args.no_postgres and s == "postgres")
        ]
        rankers = [r for r in args.rankers.split(",") if r]
        rows = asyncio.run(
            eval_bench(
                sizes,
                stores,
                rankers,
                seed=args.seed,
                corpus=args.corpus,
                max_questions=args.questions,
                on_row=lambda r: print(json.dumps(r), flush=True),
            )
        )
        print_table(
            "evidence recall (%) and search latency (ms, limit 10)", [_flat(r) for r in rows]
        )
        _write(
            args.json,
            {"kind": "memory-eval", "corpus": args.corpus, "seed": args.seed, "rows": rows},
        )
        return
    rows = asyncio.run(recall_bench(sizes, postgres=not args.no_postgres, queries=args.queries))
    print_table("recall latency, one user, limit 8 (ms)", rows)
    result: dict[str, Any] = {"kind": "memory-latency", "recall": rows}
    if not args.no_ttfa:
        samples = asyncio.run(ttfa_bench(rounds=args.rounds, memories=args.ttfa_memories))
        summary = []
        for name, values in samples.items():
            p50, p95 = percentiles(values)
            summary.append(
                {
                    "memory": name,
                    "turns": len(values),
                    "p50_ms": p50 * 1000,
                    "p95_ms": p95 * 1000,
                    "mean_ms": statistics.fmean(values) * 1000,
                }
            )
        print_table("time to first audio, same scripted conversation (ms)", summary)
        result["ttfa"] = summary
    _write(args.json, result)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "by_kind_r@10"}


def _write(path: Path | None, data: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=2))
        print(f"results: {path}")


if __name__ == "__main__":
    main()
