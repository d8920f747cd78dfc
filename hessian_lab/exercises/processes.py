"""Noticing other processes: work done in a forked child (os.fork, multiprocessing) moves no count of this process.

No tally can see inside another process, so the check looks for the child itself, by two signs the operating
system keeps: the resources of children that finished and were waited for (getrusage(RUSAGE_CHILDREN):
a child's first write already costs it page faults), and the children still listed in /proc (Linux), which
a child that was never waited for stays among. Where neither exists (Windows), no child can be noticed.
"""

from pathlib import Path

try:
    import resource
except ImportError:  # Windows: no getrusage
    resource = None

TASKS = Path("/proc/self/task")


def children_snapshot():
    """What the operating system says of this process's children now: finished-child usage, and live child ids."""
    usage = None
    if resource is not None:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        usage = (used.ru_minflt, used.ru_majflt, used.ru_utime, used.ru_stime)
    live = set()
    if TASKS.is_dir():
        for children in TASKS.glob("*/children"):
            try:
                live.update(children.read_text().split())
            except OSError:  # the thread ended while we looked
                continue
    return usage, frozenset(live)


def started_children(before, after):
    """How many child processes ran between two snapshots (at least; 0 if none can be seen)."""
    (used_before, live_before), (used_after, live_after) = before, after
    return max(len(live_after - live_before), int(used_before != used_after))
