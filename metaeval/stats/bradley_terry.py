"""Bradley–Terry log-strengths from pairwise comparisons, fitted for many data sets at once.

Model: P(i beats j) = exp(s_i) / (exp(s_i) + exp(s_j)), s = natural-log strength. Data come as a
win matrix ``W`` with ``W[i, j]`` = wins of i over j; a tie counts half a win to each side
(``W[i, j] += 0.5`` and ``W[j, i] += 0.5``). The log-likelihood

    l(s) = sum_{i != j} W[i, j] * (s_i - log(exp(s_i) + exp(s_j)))

is concave; it is maximised by Newton–Raphson with a backtracking line search, vectorised over a
stack of win matrices (one per bootstrap resample), and the result is centred to mean 0.

The maximum-likelihood estimate is finite exactly when the "beat or tied" graph (an edge i -> j
when ``W[i, j] > 0``) is strongly connected (Zermelo 1929, Ford 1957): otherwise some group of
models never lost (or never won) against the rest and the MLE runs off to infinity. For such data
sets the fit adds a documented prior instead: ``prior`` virtual ties of every model against a
fixed reference of strength 0 (half a win and half a loss each), which keeps every strength
finite. :func:`mle_exists` tells the two cases apart; :func:`fit_bradley_terry` with
``prior=0`` is the plain MLE.

Example (by hand): two models, a beats b 3 times out of 4. The MLE solves
sigma(s_a - s_b) = 3/4, so s_a - s_b = ln 3 and, centred, s_a = ln(3)/2 = 0.5493.

    >>> w = np.array([[0.0, 3.0], [1.0, 0.0]])
    >>> fit_bradley_terry(w).round(4).tolist()
    [0.5493, -0.5493]
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_bradley_terry", "mle_exists", "win_matrix", "log_likelihood", "ELO_SCALE", "to_elo"]

#: Elo points per unit of natural-log strength: 400 / ln 10.
ELO_SCALE = 400.0 / np.log(10.0)


def to_elo(strength: np.ndarray | float) -> np.ndarray | float:
    """Arena-style Elo scale: ``400 / ln 10 * strength + 1000``.

    >>> round(float(to_elo(np.log(10.0))), 6)
    1400.0
    """
    return ELO_SCALE * np.asarray(strength, dtype=float) + 1000.0


def win_matrix(lo: np.ndarray, hi: np.ndarray, outcome: np.ndarray, n_models: int, *,
               group: np.ndarray | None = None, n_groups: int = 1, weight: np.ndarray | None = None) -> np.ndarray:
    """Win matrix (or one per group) from canonical comparisons.

    ``lo``/``hi`` are model indices, ``outcome`` +1 (lo wins), -1 (hi wins) or 0 (tie: half a win
    each). With ``group`` (ids 0..n_groups-1) returns ``n_groups x M x M``, else ``M x M``.
    ``weight``: each comparison counts this much (default 1; e.g. design weights).

    >>> win_matrix(np.array([0, 0]), np.array([1, 1]), np.array([1, 0]), 2).tolist()
    [[0.0, 1.5], [0.5, 0.0]]
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    o = np.asarray(outcome, dtype=float)
    g = np.zeros(lo.size, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
    m2 = n_models * n_models
    lo_w = np.where(o > 0, 1.0, np.where(o < 0, 0.0, 0.5))
    wt = np.ones(lo.size) if weight is None else np.asarray(weight, dtype=float)
    flat = np.zeros(n_groups * m2)
    np.add.at(flat, g * m2 + lo * n_models + hi, lo_w * wt)
    np.add.at(flat, g * m2 + hi * n_models + lo, (1.0 - lo_w) * wt)
    out = flat.reshape(n_groups, n_models, n_models)
    return out if group is not None else out[0]


def mle_exists(wins: np.ndarray) -> np.ndarray | bool:
    """Whether the MLE is finite: the graph with an edge i -> j when ``W[i, j] > 0`` is strongly
    connected. Works on one matrix (returns bool) or a stack (returns a bool array).

    Example: a beat b and b beat a -> connected; a only beat b -> not.

    >>> bool(mle_exists(np.array([[0.0, 1.0], [1.0, 0.0]]))), bool(mle_exists(np.array([[0.0, 1.0], [0.0, 0.0]])))
    (True, False)
    """
    w = np.asarray(wins, dtype=float)
    single = w.ndim == 2
    w = w[None] if single else w
    m = w.shape[-1]
    reach = ((w > 0) | np.eye(m, dtype=bool)).astype(float)
    steps = max(1, int(np.ceil(np.log2(max(m, 2)))))
    for _ in range(steps):
        reach = ((reach @ reach) > 0).astype(float)
    ok = np.asarray(reach.reshape(w.shape[0], -1).all(axis=1))
    return bool(ok[0]) if single else ok


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def log_likelihood(s: np.ndarray, wins: np.ndarray, prior: np.ndarray | float = 0.0) -> np.ndarray:
    """Log-likelihood (plus the virtual-tie prior) of strengths ``s`` (..., M) for ``wins`` (..., M, M).

    Example: equal strengths, one win each way: 2 * ln(1/2) = -1.386294.

    >>> round(float(log_likelihood(np.zeros(2), np.array([[0.0, 1.0], [1.0, 0.0]]))), 6)
    -1.386294
    """
    s = np.asarray(s, dtype=float)
    d = s[..., :, None] - s[..., None, :]
    ll = (np.asarray(wins) * _log_sigmoid(d)).sum(axis=(-1, -2))
    k = np.asarray(prior, dtype=float)
    return ll + k * (0.5 * _log_sigmoid(s) + 0.5 * _log_sigmoid(-s)).sum(axis=-1)


def fit_bradley_terry(wins: np.ndarray, *, prior: np.ndarray | float = 0.0, tol: float = 1e-10,
                      max_iter: int = 200) -> np.ndarray:
    """Centred Bradley–Terry log-strengths for one win matrix (M x M) or a stack (B x M x M).

    ``prior`` (scalar or one value per matrix) is the number of virtual ties of each model against a
    reference of strength 0; 0 gives the MLE, which must exist (see :func:`mle_exists`) or the
    strengths diverge (a ``ValueError`` is raised then). Returns strengths with mean 0.

    Example (by hand, three models in a cycle a > b > c > a, once each): by symmetry every
    strength is 0.

    >>> fit_bradley_terry(np.array([[0.0, 1, 0], [0, 0, 1], [1, 0, 0]])).round(12).tolist()
    [0.0, 0.0, 0.0]
    """
    w = np.asarray(wins, dtype=float)
    single = w.ndim == 2
    w = w[None] if single else w
    b, m, _ = w.shape
    k = np.broadcast_to(np.asarray(prior, dtype=float), (b,)).copy()
    if np.any(k < 0):
        raise ValueError("prior must be >= 0")
    if np.any(k == 0) and not np.all(mle_exists(w[k == 0])):
        raise ValueError("the Bradley–Terry MLE is not finite for these comparisons (a model or group of "
                         "models only won or only lost, or the models are not all linked); use a prior")
    n = w + np.swapaxes(w, 1, 2)
    total_wins = w.sum(axis=2)
    s = np.zeros((b, m))
    ones = np.ones((m, m)) / m
    active = np.ones(b, dtype=bool)
    scale = max(1.0, float(n.sum(axis=(1, 2)).max()) if b else 1.0)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        sa, na, ka = s[idx], n[idx], k[idx]
        p = _sigmoid(sa[:, :, None] - sa[:, None, :])
        sp = _sigmoid(sa)
        grad = total_wins[idx] - (na * p).sum(axis=2) + ka[:, None] * (0.5 - sp)
        c = na * p * (1.0 - p)
        lap = -c
        diag = c.sum(axis=2) + ka[:, None] * sp * (1.0 - sp)
        lap[:, np.arange(m), np.arange(m)] += diag
        lap += np.where(ka[:, None, None] == 0, ones, 0.0)  # K=0: fix the free location (sum(step) = 0)
        step = np.linalg.solve(lap, grad[..., None])[..., 0]
        ll0 = log_likelihood(sa, w[idx], ka)
        slope = (grad * step).sum(axis=1)
        t = np.ones(idx.size)
        todo = np.ones(idx.size, dtype=bool)
        new = sa.copy()
        for _ in range(40):
            cand = sa[todo] + t[todo, None] * step[todo]
            ok = log_likelihood(cand, w[idx[todo]], ka[todo]) >= ll0[todo] + 1e-4 * t[todo] * slope[todo] - 1e-12 * scale
            sel = np.flatnonzero(todo)
            new[sel[ok]] = cand[ok]
            todo[sel[ok]] = False
            if not todo.any():
                break
            t[todo] *= 0.5
        s[idx] = new
        done = np.abs(grad).max(axis=1) <= tol * scale
        active[idx[done]] = False
    if active.any():
        raise ValueError("Bradley–Terry fit did not converge")
    s -= s.mean(axis=1, keepdims=True)
    return s[0] if single else s
