"""One adapter module per system the peer benchmark compares (bench/peers.py runs each in its
own process). An adapter `<name>_side.py` imports its system at the top (an ImportError there
means: not installed) and defines

    NAME, LABEL                    short name (--only), name in the tables
    version() -> str               the version, and the backend where the system has several
    warm() -> None                 start the runtime with a tiny unrelated computation
    mlp(dtype, data) -> dict       W1: callables "forward", "gradients", "hvp" of no arguments
    chain(steps, v) -> dict        W2: callables "forward", "gradient"
    first_gradient(steps, v)       W3: build, differentiate, compile, call once; returns
                                   ({phase: seconds}, gradient value)
    diamond(depth, x)              W4: (callable, {what: node count})
    tanh4(x)                       W5: (callable, {what: node count})

Each callable returns the system's own outputs, computed (not lazy); bench/peers_workloads.py
converts them to NumPy to check them. A workload the system cannot express raises Unsupported.
"""


class Unsupported(Exception):
    """This system cannot run this workload as specified; the message says why."""


SYSTEMS = ("numpy", "symgrad", "autograd", "jax", "pytensor", "torch", "casadi", "math")
