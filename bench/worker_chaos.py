"""Worker chaos: SIGKILL the work-horse, the worker, or both at a random moment of a multi-page
window, many times, on real PostgreSQL and Redis with real `sync-gateway worker` processes.

Prints one row per kind: trials, trials whose final store equals the simulator's ground truth,
how the killed runs ended, and the longest time a killed run stayed RUNNING past its lease (the
reaper's promise: under a minute). Each trial is ``tests.chaos.run_trial`` (its docstring says
what one trial does); kinds alternate trial by trial, so machine noise hits them alike.

    python bench/worker_chaos.py                       # 20 trials of each kind
    python bench/worker_chaos.py --trials 5 --kinds horse both
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.chaos import KINDS, TrialResult, run_trial  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20, help="trials per kind (default 20)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    if args.trials < 1:
        parser.error("--trials must be at least 1")

    results: dict[str, list[TrialResult]] = {kind: [] for kind in args.kinds}
    started = time.monotonic()
    for trial in range(args.trials):
        for kind in args.kinds:
            result = run_trial(kind, seed=1000 + trial, redis_url=args.redis_url, orders=args.orders)
            results[kind].append(result)
            print(f"  {kind:<6} seed {result.seed}: killed after {result.killed_after:5.2f} s, "
                  f"ended {result.killed_run_ended_as:<9} past lease {result.past_lease_seconds:5.2f} s, "
                  f"exact {result.exact}  ({result.error_head()})", flush=True)

    print()
    print(f"{'kill':<7} {'trials':>6} {'exact':>6} {'killed run ended as':<28} {'max RUNNING past lease':>23}")
    for kind, rows in results.items():
        ended = Counter(r.killed_run_ended_as for r in rows)
        ended_text = ", ".join(f"{n} {status}" for status, n in sorted(ended.items()))
        print(f"{kind:<7} {len(rows):>6} {sum(r.exact for r in rows):>6} {ended_text:<28} "
              f"{max(r.past_lease_seconds for r in rows):>21.2f} s")
    print(f"\n{sum(len(r) for r in results.values())} trials in {time.monotonic() - started:.0f} s "
          f"(lease 3 s, {args.orders} orders, pages of 10)")


if __name__ == "__main__":
    main()
