"""The floor under the book's MLP gradient: its five matrix products alone, written into arrays
made once, against hand-written NumPy's whole call (loss, dW1, dW2), in the same process.

No fusion of the elementwise work can bring a call below the products, so their ratio to hand
NumPy bounds what the fused tier's MLP goal (0.85x hand NumPy) can reach. Runs in a child
process with glibc's malloc pinned (common.MALLOC, as bench/peers.py pins it), so that hand
NumPy's arrays do not page-fault (the faults a call are printed); each round is the fastest of
5 samples of 50 calls.
Reports, never fails.

    python bench/mlp_floor.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import timeit

import numpy as np
from common import faults_per_call, glibc_tunables, mlp_data, mlp_grad_numpy


def rounds(n: int) -> None:
    X, y, W1, W2, _, _ = mlp_data()
    Z = X @ W1
    H = np.maximum(Z, 0)
    G = np.random.default_rng(1).standard_normal((len(y), W2.shape[1]))
    gH = G @ W2.T
    outs = [np.empty_like(Z), np.empty((len(y), W2.shape[1])), np.empty_like(W2),
            np.empty_like(gH), np.empty_like(W1)]

    def products() -> None:  # forward X W1 and H W2; backward H^T G, G W2^T, X^T gH
        np.matmul(X, W1, out=outs[0])
        np.matmul(H, W2, out=outs[1])
        np.matmul(H.T, G, out=outs[2])
        np.matmul(G, W2.T, out=outs[3])
        np.matmul(X.T, gH, out=outs[4])

    def hand() -> object:
        return mlp_grad_numpy(X, y, W1, W2)

    print(f"hand NumPy: {faults_per_call(hand)} page faults a call")
    for r in range(n):
        t_hand = min(timeit.repeat(hand, number=50, repeat=5)) / 50
        t_prod = min(timeit.repeat(products, number=50, repeat=5)) / 50
        print(f"round {r + 1}: hand NumPy {t_hand * 1e3:.2f} ms, the five products "
              f"{t_prod * 1e3:.2f} ms, ratio {t_prod / t_hand:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        rounds(args.rounds)
        return 0
    env = {**os.environ, "GLIBC_TUNABLES": glibc_tunables()}
    return subprocess.run([sys.executable, __file__, "--child", "--rounds", str(args.rounds)],
                          env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
