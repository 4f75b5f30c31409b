"""Run a command and report the peak summed RSS of its whole process tree.

    .venv/bin/python bench/peak_memory.py -- make folds train ensemble

``/usr/bin/time -v`` reports the largest single process; joblib workers run beside the
main process, so this samples the sum over the tree (every 0.2 s) as well.
"""

from __future__ import annotations

import subprocess
import sys
import time

import psutil


def tree_rss(root: psutil.Process) -> int:
    """Summed resident memory of a process and all its descendants, in bytes."""
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        raise SystemExit("usage: peak_memory.py -- COMMAND [ARGS...]")
    start = time.perf_counter()
    child = subprocess.Popen(args)
    root = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, tree_rss(root))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    wall = time.perf_counter() - start
    print(
        f"peak summed RSS of the process tree: {peak / 2**30:.2f} GiB; wall {wall:.0f} s; exit {child.returncode}",
        file=sys.stderr,
    )
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
