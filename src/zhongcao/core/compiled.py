"""Compiled kernels: the adapter to numba, the one place that knows it.

A few hot loops decide per row with early exits and running counts (a feed page filling its slots past
seen and repeated notes). numpy can only say those as many passes over (rows × candidates) temporaries;
compiled, they are one pass that touches each candidate once. A kernel is plain Python over arrays and
scalars, so it also runs uncompiled: ``ZHONGCAO_KERNELS=python`` does that (to step through one in a
debugger, or where numba has no build), and the tests hold both ways to the same answers.

Compilation is lazy and cached on disk beside the module: importing zhongcao never imports numba, and
only the first call on a fresh checkout pays the compile. Kernels release the GIL.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

MODE_VARIABLE = "ZHONGCAO_KERNELS"


def compiled() -> bool:
    """Whether kernels run compiled (the default) or as plain Python."""
    return os.environ.get(MODE_VARIABLE, "numba") != "python"


def kernel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled on its first call. A kernel calls no other kernel: each compiles on its own."""
    run: list[Callable[..., Any]] = []

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        if not run:
            if compiled():
                import numba

                run.append(numba.njit(cache=True, nogil=True)(fn))
            else:
                run.append(python)
        return run[0](*args)

    @functools.wraps(fn)
    def python(*args: Any) -> Any:
        with np.errstate(over="ignore"):  # hashes wrap around in unsigned arithmetic, as compiled code does
            return fn(*args)

    call.python = python  # type: ignore[attr-defined]  # the uncompiled kernel, for tests that compare the two
    return call
