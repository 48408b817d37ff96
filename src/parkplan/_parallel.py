"""Worker processes for the parts of a plan that split into independent pieces: local (fork) or Dask.

A stage whose result for one chunk of rows depends only on that chunk (and on large read-only inputs
such as the kerb table) is mapped over contiguous chunks by forked processes: the inputs are inherited,
not pickled, and the chunks come back in order, so the result is the same for any number of workers.
Where ``fork`` is not available (macOS' and Windows' default start methods), or the input is small, the
chunks run in this process. :func:`submit` runs one independent piece in a thread while the caller does
the rest (the kerbs' losses to zones beside the quotas and the layout), and :func:`thread_map` (row
ranges) and :func:`geos_map` (items) split work that GEOS and numpy do without holding Python's lock
(building shapely geometries from coordinates, spatial-index queries, hazard matching) over threads:
geometries must be made in the process that returns them.

The forked workers are parkplan's own (:class:`_Workers`), not ``multiprocessing.Pool``: each has its
own pipe, so stopping them never waits for a lock a killed worker held, a worker that dies is an error
at once instead of a result waited for forever, and they stop quietly on Ctrl-C and SIGTERM: workers
ignore SIGINT (the parent, which the terminal signals too, ends them) and SIGTERM ends a worker at once
without a traceback (:mod:`parkplan._interrupt`). Whenever the parent leaves a map early (an error, an
interruption, a consumer that stops reading) its workers are ended and waited for.

With a ``dask.distributed`` client active (:func:`using`; ``plan(..., client=...)``, ``--scheduler``), the
same chunks are Dask tasks on that cluster instead, gathered in order: the result is again the same.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing as mp
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as mp_wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, NoReturn, ParamSpec, TypeVar

from parkplan import _interrupt as interrupt
from parkplan.errors import ParkplanError

__all__ = [
    "CHUNKS_PER_WORKER",
    "MIN_ROWS_PER_WORKER",
    "THREAD_CHUNK_ROWS",
    "Pending",
    "chunk_bounds",
    "fork_imap",
    "fork_map",
    "geos_map",
    "map_range",
    "paused_gc",
    "stop_workers",
    "submit",
    "thread_map",
    "using",
    "without_gc",
    "worker_count",
]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

MIN_ROWS_PER_WORKER = 50_000
"""Below this many rows per worker a stage runs in this process (forking, or a thread for
:func:`submit`, costs more than it saves)."""

CHUNKS_PER_WORKER = 4
"""Ranges per local worker (see :func:`chunk_bounds`)."""

MIN_ROWS_PER_THREAD = 20_000
"""Below this many rows per thread :func:`thread_map` runs in the calling thread alone."""

THREAD_CHUNK_ROWS = 65_536
"""Most rows per range of :func:`thread_map`. The temporary arrays of a range this size stay in the
CPU's cache and come from memory the allocator reuses, instead of fresh pages for arrays of millions
of rows: the kerb-following bay polygons of 1.3 million bays took 0.76-0.84 s in ranges of 65,536 rows
against 1.1-2.2 s in one range (one thread, three runs each)."""

_CLIENT: list[Any] = []
"""The active ``dask.distributed.Client``, if any (a stack: :func:`using` nests)."""


@contextmanager
def using(client: Any | None) -> Iterator[None]:
    """Run the chunked stages inside the block on the Dask cluster of ``client`` (``None``: locally)."""
    if client is None:
        yield
        return
    _CLIENT.append(client)
    try:
        yield
    finally:
        _CLIENT.pop()


def _dask_workers() -> int:
    info = _CLIENT[-1].scheduler_info()
    return max(len(info.get("workers", {})), 1)


def worker_count(workers: int | None = None) -> int:
    """Count the processes to use.

    ``workers`` if given: a positive count as it is; a negative one counted back from the CPUs available
    to this process as joblib's ``n_jobs`` (``-1`` all, ``-2`` all but one), never below 1 (``0`` is 1
    here; :func:`parkplan.arguments.resolve_workers` refuses it from users). Else the Dask workers of an
    active client, else the CPUs available.
    """
    if workers is not None:
        if workers < 0:
            return max(_local_cpus() + 1 + int(workers), 1)
        return max(int(workers), 1)
    if _CLIENT:
        return _dask_workers()
    return _local_cpus()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block (as it was before, after it).

    Building millions of shapely geometries (each tracked by the collector) otherwise sets off
    collections that walk every tracked object, holding Python's lock, and so also stop the threads of
    :func:`thread_map`. Nothing of a plan's geometry forms reference cycles; cycles made inside the block
    are collected after it.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def without_gc(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with the cyclic garbage collector paused (:func:`paused_gc`).

    For :func:`parkplan.plan` and :meth:`parkplan.Plan.write`: reading, matching and laying out a city
    make millions of tracked objects (geometries), and the collections they set off cost seconds at a
    million bays (1.3 M: 2-3 s of about 30 s, with the same peak memory) and, in forked workers, copy
    the pages whose objects they touch. Cycles made meanwhile are collected afterwards.
    """

    @functools.wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused_gc():
            return func(*args, **kwargs)

    return call


def _local_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_map(
    func: Callable[[int, int], T],
    n_rows: int,
    workers: int | None = None,
    min_rows: int = MIN_ROWS_PER_THREAD,
    chunk_rows: int | None = None,
) -> list[T]:
    """``[func(lo, hi), ...]`` over contiguous row ranges covering ``0 .. n_rows``, on threads, in order.

    For vectorised shapely and numpy calls, which release Python's lock while GEOS or numpy work:
    ``workers`` threads (default: the CPUs of this machine, also with a Dask client: the threads run here)
    take ranges of at most ``chunk_rows`` rows (default :data:`THREAD_CHUNK_ROWS`), at least one range per
    thread; one thread runs them one after the other. The ranges come back in order, so concatenating
    them gives the same result for any number of threads.
    """
    n = max(min(workers if workers is not None else _local_cpus(), n_rows // max(min_rows, 1)), 1)
    if n_rows <= 0:
        return [func(0, 0)]
    size = max(chunk_rows if chunk_rows is not None else THREAD_CHUNK_ROWS, 1)
    pieces = max(n, -(-n_rows // size))
    step = -(-n_rows // pieces)
    bounds = [(lo, min(lo + step, n_rows)) for lo in range(0, n_rows, step)]
    return _on_threads(lambda b: func(*b), bounds, n)


def _on_threads(func: Callable[[Any], T], items: Sequence[Any], n: int) -> list[T]:
    """``[func(item) for item in items]`` on ``n`` threads (here when ``n`` is 1), results in order."""
    if n <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(n, thread_name_prefix="parkplan") as pool:
        return list(pool.map(func, items))


def chunk_bounds(
    n_rows: int, workers: int | None, min_rows: int = MIN_ROWS_PER_WORKER
) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` row ranges covering ``0 .. n_rows``, none smaller than ``min_rows``.

    With local workers, :data:`CHUNKS_PER_WORKER` ranges per worker: rows differ in cost (a hazard line
    costs more than a point, and inputs are often sorted by kind), so the pool or the Dask scheduler hands
    the ranges out as workers become free.
    """
    n = max(min(worker_count(workers), n_rows // max(min_rows, 1)), 1)
    if n > 1:
        n = min(n * CHUNKS_PER_WORKER, max(n_rows, 1))
    step = -(-n_rows // n) if n_rows else 0
    return [(lo, min(lo + step, n_rows)) for lo in range(0, n_rows, step)] if n_rows else [(0, 0)]


WORKER_STOP_S = 2.0
"""Seconds a worker process gets to end once asked (or sent SIGTERM) before it is killed."""

_LIVE: set[_Workers] = set()
"""The local worker pools running now (:func:`stop_workers` ends them)."""


def _serve(
    conn: Connection, inherited: list[Connection], func: Callable[[Any], Any], items: Sequence[Any]
) -> None:
    """Body of a forked worker: run ``func(items[i])`` for every index ``i`` the parent sends.

    Each answer goes back as ``(True, result)`` or ``(False, exception)``; ``None`` (or the parent gone)
    ends the worker, quietly. The signals are held back from the fork (:func:`interrupt.blocked`) until
    the worker's own handlers are set (:func:`interrupt.quiet_worker`).
    """
    interrupt.quiet_worker()
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, interrupt.SIGNALS)
    for other in inherited:  # the parent's ends: the parent gone must mean end of file here
        other.close()
    try:
        while (index := conn.recv()) is not None:
            try:
                reply: tuple[bool, Any] = (True, func(items[index]))
            except Exception as exc:  # raised again in the parent
                reply = (False, exc)
            try:
                blob = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # the result or the error does not pickle
                failure = RuntimeError(f"a worker's answer for item {index} cannot be sent back: {exc!r}")
                blob = pickle.dumps((False, failure))
            conn.send_bytes(blob)
    except (EOFError, OSError):
        return  # the parent is gone (interrupted or killed): nothing to report to
    finally:
        conn.close()


class _Workers:
    """Forked worker processes, each fed item indices through its own pipe (no lock shared with them).

    Unlike ``multiprocessing.Pool`` nothing can hang: a worker that dies is noticed at once (its
    sentinel), no worker holds a lock the parent needs to stop it, and stopping is SIGTERM, then
    SIGKILL after :data:`WORKER_STOP_S`. Workers ignore SIGINT: on Ctrl-C (or any exception, or the
    consumer leaving early) the parent stops them.
    """

    def __init__(self, func: Callable[[Any], Any], items: Sequence[Any], n: int) -> None:
        self.n_items = len(items)
        self.procs: list[BaseProcess] = []
        self.conns: list[Connection] = []
        ctx = mp.get_context("fork")
        interrupt.prepare_fork()  # e.g. the idle CP-SAT helper thread ends (parkplan.optimize._cpsat)
        _LIVE.add(self)
        try:
            for _ in range(n):
                here, there = ctx.Pipe()
                self.conns.append(here)
                proc = ctx.Process(
                    target=_serve, args=(there, list(self.conns), func, items), name="parkplan-worker"
                )
                proc.daemon = True  # ended by multiprocessing at exit, whatever happens here
                self.procs.append(proc)
                with interrupt.blocked():  # until the worker has its own handlers
                    proc.start()
                there.close()
        except BaseException:
            self.stop(graceful=False)
            raise

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.stop(graceful=kind is None)

    def results(self) -> Iterator[Any]:
        """Yield ``func(item)`` for every item, in order; the workers take the items as they get free."""
        busy: dict[Connection, int] = {}
        done: dict[int, Any] = {}
        sent = want = 0
        for conn in self.conns[: self.n_items]:
            conn.send(sent)
            busy[conn] = sent
            sent += 1
        sentinels = {proc.sentinel: proc for proc in self.procs}
        while want < self.n_items:
            interrupt.check()
            if want in done:
                yield done.pop(want)
                want += 1
                continue
            # Never an endless wait: a signal that came while this thread held it back (forking) was
            # taken by another thread, and only a return from a wait lets this one see it.
            ready = mp_wait([*busy, *sentinels], timeout=interrupt.WAIT_POLL_S)
            for conn in [r for r in ready if isinstance(r, Connection)]:
                try:
                    ok, value = pickle.loads(conn.recv_bytes())
                except EOFError:  # the worker is gone
                    _died(self.procs[self.conns.index(conn)])
                index = busy.pop(conn)
                if not ok:
                    raise value
                done[index] = value
                if sent < self.n_items:
                    conn.send(sent)
                    busy[conn] = sent
                    sent += 1
            for sentinel in [r for r in ready if isinstance(r, int)]:
                _died(sentinels[sentinel])

    def stop(self, graceful: bool) -> None:
        """End the workers (asked to, when ``graceful``; else SIGTERM) and wait for them."""
        _LIVE.discard(self)
        for conn, proc in zip(self.conns, self.procs, strict=False):
            if graceful:
                with suppress(OSError):
                    conn.send(None)
            elif proc.pid is not None and proc.exitcode is None:
                proc.terminate()
        for proc in self.procs:
            if proc.pid is None:  # never started
                continue
            proc.join(WORKER_STOP_S)
            if proc.exitcode is None:
                proc.kill()
                proc.join()
            proc.close()
        for conn in self.conns:
            conn.close()
        self.procs, self.conns = [], []

    def kill(self) -> None:
        """Kill the workers at once (from any thread; :func:`stop_workers`)."""
        for proc in list(self.procs):
            with suppress(OSError, ValueError):
                if proc.pid is not None:
                    os.kill(proc.pid, signal.SIGKILL)


def _died(proc: BaseProcess) -> NoReturn:
    """Raise for a worker that ended before its work: :class:`interrupt.Interrupted` for SIGINT/SIGTERM."""
    proc.join(WORKER_STOP_S)
    code = proc.exitcode
    if code is not None and -code in (signal.SIGINT, signal.SIGTERM):
        raise interrupt.Interrupted(-code)
    how = f"was killed by signal {-code}" if code is not None and code < 0 else f"ended with code {code}"
    raise ParkplanError(
        f"a worker process {how} before its work was done (out of memory? try fewer --workers)"
    )


def stop_workers() -> None:
    """Kill every local worker process running now, at once (the command line's last resort)."""
    for pool in list(_LIVE):
        pool.kill()


def _dask_call(func_blob: bytes, item_blob: bytes) -> bytes:
    """Run a pickled function on a pickled item on a Dask worker; the result goes back pickled."""
    func = pickle.loads(func_blob)  # written by cloudpickle, read by plain pickle
    return pickle.dumps(func(pickle.loads(item_blob)), protocol=pickle.HIGHEST_PROTOCOL)


def _dask_futures(func: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """Submit ``func(item)`` for every item to the active Dask client, as pickled bytes.

    Dask's own serialisation of GeoDataFrames was measured slow (400,000 hazards in two chunks: 7.0 s to
    match against 3.2 s sent as pickled bytes; ``scatter`` took 11.6 s for the chunks alone), so the
    function (with what it captures) and each item travel as one pickle each.
    """
    import cloudpickle  # type: ignore[import-untyped]

    client = _CLIENT[-1]
    func_blob = cloudpickle.dumps(func, protocol=pickle.HIGHEST_PROTOCOL)
    blobs = [pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL) for item in items]
    return list(client.map(_dask_call, [func_blob] * len(blobs), blobs, pure=False))


def fork_map(func: Callable[[Any], T], items: Sequence[Any], workers: int | None = None) -> list[T]:
    """``[func(item) for item in items]``, by forked processes when there are several items.

    ``func`` and everything it reads are inherited by the children; only the results are pickled back.
    """
    if _CLIENT and len(items) > 1:
        return [pickle.loads(blob) for blob in _CLIENT[-1].gather(_dask_futures(func, items))]
    return list(fork_imap(func, items, workers))


def geos_map(func: Callable[[Any], T], items: Sequence[Any], workers: int | None = None) -> list[T]:
    """``[func(item) for item in items]`` for work done mostly inside GEOS: on threads of this process.

    Vectorised shapely predicates, distances, intersections and index queries release Python's lock, so
    threads share the work without forking: no inputs inherited page by page, no results pickled back.
    The threads take the items as they become free and the results come back in order. With a Dask
    client active the items are Dask tasks, as for :func:`fork_map`.
    """
    if _CLIENT and len(items) > 1:
        return fork_map(func, items, workers)
    return _on_threads(func, items, min(worker_count(workers), len(items)))


def fork_imap(func: Callable[[Any], T], items: Sequence[Any], workers: int | None = None) -> Iterator[T]:
    """Like :func:`fork_map`, yielding the results in order as they come (for streaming writers)."""
    if _CLIENT and len(items) > 1:
        for future in _dask_futures(func, items):
            yield pickle.loads(future.result())
        return
    n = min(worker_count(workers), len(items))
    if n <= 1 or "fork" not in mp.get_all_start_methods():
        for item in items:
            yield func(item)
        return
    with _Workers(func, items, n) as pool:
        yield from pool.results()


def map_range(
    func: Callable[[int], T], n: int, workers: int | None = None, min_per_worker: int = 1
) -> Iterator[T]:
    """Yield ``func(0), ..., func(n - 1)`` in order, computed in contiguous groups on the pool.

    For independent models (one CP-SAT model per index): a group runs where :func:`fork_map` runs its
    items, fewer than ``min_per_worker`` indices per worker stay in this process.
    """
    groups = chunk_bounds(n, workers, min_rows=min_per_worker)
    for part in fork_imap(lambda bounds: [func(i) for i in range(*bounds)], groups, workers):
        yield from part


class Pending(Generic[T]):
    """The result of :func:`submit`, ready or on its way: :meth:`result` waits for it.

    Also a context manager: leaving the block without asking for the result (an error in the caller's
    part) does not wait for the thread; its result is dropped.
    """

    def __init__(
        self,
        get: Callable[[], T],
        close: Callable[[], None] | None = None,
        stop: Callable[[], None] | None = None,
    ) -> None:
        self._get = get
        self._close = close
        self._stop = stop

    def result(self) -> T:
        """Wait for the result and return it (a worker's exception is raised here)."""
        try:
            return self._get()
        finally:
            self._finish(self._close)

    def _finish(self, how: Callable[[], None] | None) -> None:
        if self._close is not None and how is not None:
            how()
        self._close = self._stop = None

    def __enter__(self) -> Pending[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish(self._stop)


def submit(func: Callable[[], T], workers: int | None = None, rows: int = 0) -> Pending[T]:
    """Start ``func()`` in a thread of this process and return at once; the caller goes on with its work.

    For numpy and pandas work (which runs mostly without Python's lock) beside the caller's own: a
    thread shares this process's memory, so nothing is pickled and no page is copied on write. A forked
    worker was measured slower for the kerbs' account beside the quotas and the layout (1.3 M bays,
    model and layout 4.5-4.9 s against 3.8-4.2 s, three runs each). With one worker or fewer than
    :data:`MIN_ROWS_PER_WORKER` ``rows``, ``func`` runs in the calling thread when the result is asked
    for; the result is the same either way. Leaving the :class:`Pending` block without the result (the
    caller failed) does not wait for the thread: its result is dropped.
    """
    if worker_count(workers) <= 1 or rows < MIN_ROWS_PER_WORKER:
        return Pending(func)
    pool = ThreadPoolExecutor(1, thread_name_prefix="parkplan-submit")
    future = pool.submit(func)
    return Pending(
        future.result,
        lambda: pool.shutdown(wait=True),
        lambda: pool.shutdown(wait=False, cancel_futures=True),
    )
