"""Benchmark of the Dask backend beyond memory: the book's MLP (784-512-10) loss and both weight
gradients over an X of 4,000,000 x 784 float32 (12.5 GB) on disk, in one run.

Writes X and the labels as .npy files chunk by chunk (never all in memory), then computes loss,
dloss/dW1 and dloss/dW2 with `backend="dask"` on (1) a dask.distributed LocalCluster of 2
worker processes with a 3 GB memory limit each and (2) dask's threaded scheduler, sampling the
memory (RSS) of this process and of every process it started; checks the values against a
chunk-by-chunk NumPy reference (sg.function on each chunk, weighted by its rows) and compares
rows per second with sg.function on one in-memory chunk of the same rows, timed in this run:
as many calls as the data has chunks, half before the Dask runs and half after, so that both
sides are rates sustained over the same work (the fastest call is printed too).
Reports, never fails on a goal (exit code 0; 2 when the disk has too little room).

    python bench/dask_scale.py [--quick] [--rows N] [--chunk ROWS] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import mmap
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import LAM, D, K, blas_note, git_note, mlp_graph, print_summary, rel_err

import symgrad as sg  # bench/common.py put the repo root first on sys.path

ROWS, CHUNK = 4_000_000, 50_000
QUICK_ROWS, QUICK_CHUNK = 40_000, 10_000
WORKERS, WORKER_MEMORY = 2, "3GB"
PEAK_GOAL, RATIO_GOAL = 8e9, 0.7  # bytes; rows/s against NumPy on one in-memory chunk
# Each run is checked against a reference computed with the same BLAS settings: the cluster's
# workers run BLAS single-threaded, and float32 X @ W1 rounds differently there, enough to put
# a few pre-activations on the other side of relu's kink, which moves dW1 by ~1e-3 of its size
# on random data. Against its own reference a run agrees to float32 rounding of the sums; a
# chunk left out or counted twice would move the results by 1/chunks.
AGREE = 1e-5
MEMORY_GUARD = 14e9  # bytes: past this the benchmark stops itself, to spare a shared machine
SEED = 657


# -- the data on disk ----------------------------------------------------------------------------
class NpyRows:
    """A 2-D (or 1-D) .npy file read a block of rows at a time: each block is a read-only
    array over a memory map of its own bytes, unmapped when the array goes (a map of the whole
    file would keep every page read in the reader's memory). Nothing is copied and no fresh
    memory is zeroed, where np.fromfile does both: 45-210 ms per 157 MB chunk on
    this machine, against about 30 ms of page faults for the map. dask's chunks of it read
    what they hold, and a task sent to a worker carries the path only."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read = (np.lib.format.read_array_header_1_0 if major == 1
                    else np.lib.format.read_array_header_2_0)
            self.shape, fortran, self.dtype = read(f)
            self.offset = f.tell()
        assert not fortran
        self.path, self.ndim = str(path), len(self.shape)
        self.row = int(np.prod(self.shape[1:], dtype=np.int64))

    def __getitem__(self, key: tuple) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        start, stop, step = key[0].indices(self.shape[0])
        assert step == 1
        count = (stop - start) * self.row
        if count == 0:
            block = np.empty(0, self.dtype)
        else:
            first = self.offset + start * self.row * self.dtype.itemsize
            base = first - first % mmap.ALLOCATIONGRANULARITY  # maps start on a page
            with open(self.path, "rb") as f:
                view = mmap.mmap(f.fileno(), first - base + count * self.dtype.itemsize,
                                 access=mmap.ACCESS_READ, offset=base)
            block = np.frombuffer(view, self.dtype, count, first - base)  # keeps the map
        return block.reshape((stop - start,) + tuple(self.shape[1:]))[(slice(None),) + key[1:]]

    def __dask_tokenize__(self) -> tuple:
        return (self.path, self.shape, self.dtype.str)


def write_npy(path: Path, shape: tuple, dtype: str, chunk: int,
              make: Callable[[np.random.Generator, int], np.ndarray]) -> None:
    """A .npy file of `shape`, written `chunk` rows at a time from make(rng, rows): a header,
    then the rows as they come (no memory map: written pages stay out of this process)."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": shape}
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(f, header)
        for k, start in enumerate(range(0, shape[0], chunk)):
            rows = min(chunk, shape[0] - start)
            make(np.random.default_rng([SEED, k]), rows).astype(dtype, copy=False).tofile(f)


def _complete(path: Path, shape: tuple) -> bool:
    """Whether a .npy file of that shape is there, whole (not cut short by an interrupted run)."""
    if not path.exists():
        return False
    f = NpyRows(path)
    return f.shape == shape and path.stat().st_size == f.offset + f.row * shape[0] * \
        f.dtype.itemsize


def make_data(folder: Path, rows: int, chunk: int) -> tuple[Path, Path, float]:
    """X (rows x 784 float32) and y (rows, int64) in `folder`, reused if already there;
    seconds spent writing."""
    x_path, y_path = folder / f"X_{rows}.npy", folder / f"y_{rows}.npy"
    t0 = time.perf_counter()
    if not _complete(x_path, (rows, D)):
        write_npy(x_path, (rows, D), "float32", chunk,
                  lambda rng, n: rng.standard_normal((n, D), dtype=np.float32))
    if not _complete(y_path, (rows,)):
        write_npy(y_path, (rows,), "int64", chunk, lambda rng, n: rng.integers(0, K, n))
    return x_path, y_path, time.perf_counter() - t0


# -- memory ----------------------------------------------------------------------------------------
class PeakMemory:
    """Samples the summed RSS of this process and all its descendants (the cluster's nannies
    and workers) every `every` seconds in a thread; `.peak` is the largest sum seen.

    The list of processes is refreshed every `refresh` seconds, not at every sample: finding
    them walks all of /proc (about 4 ms of CPU here, 8% of a core at 20 samples a second,
    taken from the run it measures), where reading known processes' RSS costs tens of us."""

    def __init__(self, every: float = 0.05, refresh: float = 1.0) -> None:
        import psutil

        self.me, self.every, self.peak = psutil.Process(), every, 0
        self._refresh, self._found, self._procs = refresh, -np.inf, [self.me]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        now = time.perf_counter()
        if now - self._found >= self._refresh:
            self._procs, self._found = [self.me, *self.me.children(recursive=True)], now
        total = 0
        for p in self._procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:  # a process that ended meanwhile
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            if self.peak > MEMORY_GUARD:
                print(f"memory guard: {self.peak / 1e9:.1f} GB in use, more than "
                      f"{MEMORY_GUARD / 1e9:.0f} GB: stopping", flush=True)
                for p in self.me.children(recursive=True):
                    p.kill()
                os._exit(3)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


# -- the runs --------------------------------------------------------------------------------------
def weights(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hid = 512
    W1 = (rng.standard_normal((D, hid)) * np.sqrt(2 / D)).astype(np.float32)
    W2 = (rng.standard_normal((hid, K)) * np.sqrt(2 / hid)).astype(np.float32)
    return W1, W2


def functions() -> tuple[sg.Function, sg.Function]:
    """Loss, dW1, dW2 of the book's MLP (float32, any number of rows): NumPy and Dask."""
    t = mlp_graph("float32", n=None)
    outs = [t["loss"], *sg.gradients(t["loss"], [t["W1"], t["W2"]])]
    ins = [t["X"], t["y"], t["W1"], t["W2"]]
    return sg.function(ins, outs), sg.function(ins, outs, backend="dask")


def reference(f_np: sg.Function, X: NpyRows, y: NpyRows, W1, W2, chunk: int
              ) -> tuple[list[np.ndarray], float]:
    """Chunk by chunk on NumPy: each chunk's (loss, dW1, dW2) weighted by its share of the
    rows, summed in float64 (a mean over rows plus weight decay: the shares add up to 1)."""
    n = X.shape[0]
    total = None
    t0 = time.perf_counter()
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        part = f_np(X[(rows,)], y[(rows,)], W1, W2)
        share = (rows.stop - rows.start) / n
        scaled = [np.asarray(p, np.float64) * share for p in part]
        total = scaled if total is None else [a + b for a, b in zip(total, scaled)]
    return total, time.perf_counter() - t0


def reference_elsewhere(x_path: Path, y_path: Path, chunk: int, env: dict
                        ) -> tuple[list[np.ndarray], float]:
    """reference() in a new process with these environment variables (the workers' BLAS
    settings: distributed.nanny.pre-spawn-environ)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "reference.npz"
        subprocess.run([sys.executable, __file__, "--reference", str(x_path), str(y_path),
                        str(out), "--chunk", str(chunk)], check=True,
                       env={**os.environ, **{k: str(v) for k, v in env.items()}})
        with np.load(out) as got:
            return [got[k] for k in ("loss", "dW1", "dW2")], float(got["seconds"])


def time_one_chunk(f_np: sg.Function, X: NpyRows, y: NpyRows, W1, W2, chunk: int,
                   repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls of sg.function on the first chunk of rows, in
    memory (after a warm-up)."""
    Xc, yc = X[(slice(0, chunk),)].copy(), y[(slice(0, chunk),)].copy()  # in memory, not mapped
    f_np(Xc, yc, W1, W2)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f_np(Xc, yc, W1, W2)
        times.append(time.perf_counter() - t0)
    return times


def run_dask(f_dask: sg.Function, X: NpyRows, y: NpyRows, W1, W2, chunk: int,
             compute: Callable[[list], list]) -> dict:
    """Builds the lazy results, then computes them with `compute`: seconds, peak memory,
    values, and the error if it did not finish."""
    import dask.array as da

    Xd, yd = da.from_array(X, chunks=(chunk, -1)), da.from_array(y, chunks=(chunk,))
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        try:
            values, error = compute(f_dask(Xd, yd, W1, W2)), None
        except Exception as e:  # a worker killed for its memory, say: reported, not raised
            values, error = None, f"{type(e).__name__}: {e}"
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak": mem.peak, "values": values, "error": error}


def on_cluster(f_dask, X, y, W1, W2, chunk) -> dict:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                      memory_limit=WORKER_MEMORY, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        blas = client.run(lambda: os.environ.get("OPENBLAS_NUM_THREADS"))
        run = run_dask(f_dask, X, y, W1, W2, chunk, lambda out: client.gather(
            client.compute(out)))
    run["blas"] = sorted(set(blas.values()))
    return run


def workers_environ() -> dict:
    import dask
    import distributed  # noqa: F401 - its settings join dask's config when it is imported

    return dask.config.get("distributed.nanny.pre-spawn-environ")


def on_threads(f_dask, X, y, W1, W2, chunk) -> dict:
    import dask

    return run_dask(f_dask, X, y, W1, W2, chunk,
                    lambda out: list(dask.compute(*out, scheduler="threads",
                                                  num_workers=WORKERS)))


# -- report ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ROWS:,} rows in chunks of {QUICK_CHUNK:,}: a smoke test")
    parser.add_argument("--rows", type=int, help=f"rows of X (default {ROWS:,})")
    parser.add_argument("--chunk", type=int, help=f"rows per chunk (default {CHUNK:,})")
    parser.add_argument("--dir", type=Path, help="where to write the data (default: a new "
                        "temporary folder); files already there of the right shape are reused")
    parser.add_argument("--keep", action="store_true", help="keep the data files afterwards")
    parser.add_argument("--reference", nargs=3, type=Path, metavar=("X", "Y", "OUT"),
                        help="only compute the chunk-by-chunk reference into OUT (.npz)")
    args = parser.parse_args(argv)
    rows = args.rows or (QUICK_ROWS if args.quick else ROWS)
    chunk = args.chunk or (QUICK_CHUNK if args.quick else CHUNK)
    if args.reference:
        x_path, y_path, out = args.reference
        values, seconds = reference(functions()[0], NpyRows(x_path), NpyRows(y_path),
                                    *weights(), chunk)
        np.savez(out, loss=values[0], dW1=values[1], dW2=values[2], seconds=seconds)
        return 0
    start = time.perf_counter()
    print(f"symgrad Dask scaling benchmark{' (--quick)' if args.quick else ''}: {rows:,} x {D} "
          f"float32 on disk, chunks of {chunk:,} rows")
    blas_note()
    git_note()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start "
          "(shared with other work: timings move between runs)")

    folder = args.dir or Path(tempfile.mkdtemp(prefix="symgrad-dask-"))
    folder.mkdir(parents=True, exist_ok=True)
    need = rows * (D * 4 + 8)
    have_x = (folder / f"X_{rows}.npy").exists()
    free = shutil.disk_usage(folder).free
    if not have_x and free < need * 1.1:
        print(f"not enough disk in {folder}: {need / 1e9:.1f} GB needed, "
              f"{free / 1e9:.1f} GB free; choose another place with --dir")
        return 2
    try:
        x_path, y_path, wrote = make_data(folder, rows, chunk)
        print(f"data: {x_path} ({x_path.stat().st_size / 1e9:.2f} GB), written in "
              f"{wrote:.1f} s")
        X, y = NpyRows(x_path), NpyRows(y_path)
        W1, W2 = weights()
        f_np, f_dask = functions()
        print("timing sg.function on one in-memory chunk ...", flush=True)
        repeats = max(3, -(-rows // chunk) // 2)  # both halves: as many calls as chunks
        chunk_times = time_one_chunk(f_np, X, y, W1, W2, chunk, repeats)
        print("reference: sg.function chunk by chunk, here and with the workers' BLAS "
              "settings ...", flush=True)
        want = {"threads": reference(f_np, X, y, W1, W2, chunk)}
        want["cluster"] = reference_elsewhere(x_path, y_path, chunk, workers_environ())
        print("dask.distributed LocalCluster ...", flush=True)
        runs = {"cluster": on_cluster(f_dask, X, y, W1, W2, chunk)}
        print("dask threaded scheduler ...", flush=True)
        runs["threads"] = on_threads(f_dask, X, y, W1, W2, chunk)
        print("timing sg.function on one in-memory chunk again ...", flush=True)
        chunk_times += time_one_chunk(f_np, X, y, W1, W2, chunk, repeats)
    finally:
        if args.dir is None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    # throughput against throughput: the Dask runs' rows over their seconds, against the
    # in-memory calls' rows over theirs (the same number of rows, timed before and after the Dask
    # runs). The fastest call alone, the least disturbed by other work on this shared machine,
    # catches a quiet moment the long runs cannot: its ratio is printed as well, unjudged.
    numpy_rate = chunk * len(chunk_times) / sum(chunk_times)
    fastest = chunk / min(chunk_times)
    table = [(f"NumPy sg.function, one in-memory chunk ({len(chunk_times)} calls, sustained)",
              f"{numpy_rate:,.0f} rows/s", "", "", "", None),
             ("NumPy sg.function, one in-memory chunk (fastest call)",
              f"{fastest:,.0f} rows/s", "", "", "", None),
             ("NumPy sg.function, one in-memory chunk (median call)",
              f"{chunk / statistics.median(chunk_times):,.0f} rows/s", "", "", "", None)]
    table += [(f"NumPy sg.function, chunk by chunk from disk ({where})",
               f"{rows / want[name][1]:,.0f} rows/s", "", "", "", None)
              for name, where in (("threads", "here"), ("cluster", "workers' BLAS"))]
    for name, run in runs.items():
        title = (f"{WORKERS} workers of {WORKER_MEMORY} (BLAS threads {run['blas']})"
                 if name == "cluster" else f"threaded scheduler, {WORKERS} threads")
        done = run["error"] is None
        rate = rows / run["seconds"] if done else 0.0
        errors = ([rel_err(g, w) for g, w in zip(run["values"], want[name][0])] if done
                  else [np.inf] * 3)
        table += [
            (f"{title}: finishes", "yes" if done else run["error"][:60], "", "", "yes", done),
            (f"{title}: peak memory, all processes", f"{run['peak'] / 1e9:.2f} GB", "", "",
             f"< {PEAK_GOAL / 1e9:.0f} GB", run["peak"] < PEAK_GOAL),
            (f"{title}: loss, dW1, dW2 match NumPy (rel. error)",
             ", ".join(f"{e:.1e}" for e in errors), "", "", f"< {AGREE:.0e}",
             max(errors) < AGREE),
            (f"{title}: throughput", f"{rate:,.0f} rows/s", f"{numpy_rate:,.0f} rows/s",
             f"{rate / numpy_rate:.2f}", f">= {RATIO_GOAL}", rate / numpy_rate >= RATIO_GOAL),
            (f"{title}: throughput against the fastest call", f"{rate:,.0f} rows/s",
             f"{fastest:,.0f} rows/s", f"{rate / fastest:.2f}", "", None),
        ]
    print_summary("Summary (reference: sg.function on NumPy, one in-memory chunk of the same "
                  f"rows, sustained over as many calls as chunks; weight decay {LAM})", table)
    cross = [rel_err(a, b) for a, b in zip(want["cluster"][0], want["threads"][0])]
    print("    the two references differ by " + ", ".join(f"{e:.1e}" for e in cross) +
          " (loss, dW1, dW2): BLAS rounding, and relu's kink")
    print(f"\n(load average {os.getloadavg()[0]:.2f} at the end; took "
          f"{time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
