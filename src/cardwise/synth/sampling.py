"""Vectorised sampling helpers shared by the generators.

The generators draw millions of categorical values, each from its own small distribution (a
customer's category mix, a category's hour profile, a merchant pool). Looping in Python would take
minutes; these helpers do it in one NumPy call.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def row_cdf(weights: npt.ArrayLike) -> FloatArray:
    """Normalised cumulative distributions, one per row; rows of zeros are rejected."""
    w = np.asarray(weights, dtype=np.float64)
    totals = w.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError("every distribution needs a positive total weight")
    cdf = np.cumsum(w / totals, axis=1)
    cdf[:, -1] = 1.0
    return cdf


def sample_rows(cdf: FloatArray, row: npt.ArrayLike, u: npt.ArrayLike) -> IntArray:
    """Draw one column index per element from distribution ``cdf[row]`` with uniforms ``u``.

    Offsetting row r's CDF by r makes the flattened array globally increasing, so one
    ``searchsorted`` serves every row at once (O(n log size), no n x k temporaries).
    """
    rows = np.asarray(row, dtype=np.int64)
    n_cols = cdf.shape[1]
    flat = (cdf + np.arange(cdf.shape[0], dtype=np.float64)[:, None]).ravel()
    # Keep the draw strictly inside the row so rounding can never spill into the next one.
    uu = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0 - 1e-12)
    pos = np.searchsorted(flat, rows + uu, side="right")
    out = pos - rows * n_cols
    return np.minimum(out, n_cols - 1).astype(np.int64)


def sample_in_groups(group_of_item: IntArray, weight_of_item: FloatArray, group: IntArray, u: FloatArray) -> IntArray:
    """Draw an item index from the items of ``group`` with probability ∝ weight.

    Items are variable-size groups (merchants of one category and region); the trick is the
    same as :func:`sample_rows` with groups laid end to end in one sorted array.
    """
    order = np.argsort(group_of_item, kind="stable")
    g_sorted = group_of_item[order]
    w_sorted = weight_of_item[order]
    n_groups = int(group_of_item.max()) + 1 if len(group_of_item) else 0
    starts = np.searchsorted(g_sorted, np.arange(n_groups), side="left")
    ends = np.searchsorted(g_sorted, np.arange(n_groups), side="right")
    cum = np.cumsum(w_sorted)
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    total = np.where(ends > starts, cum[np.maximum(ends - 1, 0)] - base, 0.0)
    grp = np.asarray(group, dtype=np.int64)
    if np.any(total[grp] <= 0):
        raise ValueError("sampling from an empty group")
    target = base[grp] + np.clip(u, 0.0, 1.0 - 1e-12) * total[grp]
    pos = np.searchsorted(cum, target, side="right")
    pos = np.clip(pos, starts[grp], ends[grp] - 1)
    return order[pos].astype(np.int64)


def group_sizes(group_of_item: IntArray, n_groups: int) -> IntArray:
    return np.bincount(group_of_item, minlength=n_groups).astype(np.int64)


def hash_uniform(*keys: npt.ArrayLike) -> FloatArray:
    """A deterministic uniform in [0, 1) from integer keys (SplitMix64 finaliser).

    Used where the same key must always map to the same draw, e.g. a customer's favourite
    merchant in a category, independent of how many transactions were sampled before it.
    """
    with np.errstate(over="ignore"):
        h = np.uint64(0x9E3779B97F4A7C15)
        acc = np.zeros(np.broadcast(*[np.asarray(k) for k in keys]).shape, dtype=np.uint64)
        for k in keys:
            acc = (acc ^ np.asarray(k).astype(np.uint64)) * np.uint64(0xBF58476D1CE4E5B9) + h
            acc ^= acc >> np.uint64(31)
        acc = (acc ^ (acc >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        acc = (acc ^ (acc >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        acc ^= acc >> np.uint64(31)
    return (acc >> np.uint64(11)).astype(np.float64) / float(1 << 53)
