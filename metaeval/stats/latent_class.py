"""Latent-class models of annotator reliability (Dawid & Skene 1979; MACE, Hovy et al. 2013),
fitted by EM for many weightings of the same votes at once (one per bootstrap resample).

Data: V votes, each (item, worker, label) with labels 0..K-1, and a weight per vote for each of B
weightings (a bootstrap resample weights every vote of a query by how often the query was drawn).

* **Dawid–Skene**: item i has a true class t_i ~ pi; worker j reports label l with probability
  ``confusion[j, t, l]``. EM starts from the (weighted) vote shares of each item.
* **MACE**: worker j copies the true class with probability ``theta_j`` and otherwise
  "spams" a label drawn from ``xi_j``; so ``confusion[j, t, l] = theta_j [t == l] +
  (1 - theta_j) xi_j[l]``. True classes are uniform, as in MACE.

Both add ``smoothing`` pseudo-counts (default 0.01) to every count, so no probability is exactly 0.

Example (by hand): one item, two workers who both say label 1 of 2 -> the posterior favours 1.

    >>> fit = fit_latent_class(np.array([0, 0]), np.array([0, 1]), np.array([1, 1]), n_classes=2)
    >>> int(fit.posterior[0, 0].argmax())
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LatentClassFit", "fit_latent_class", "competence", "chance_competence", "MODELS"]

MODELS = ("dawid-skene", "mace")


@dataclass(frozen=True)
class LatentClassFit:
    """EM result for B weightings: ``prior`` (B, K), ``confusion`` (B, J, K, K), ``posterior``
    (B, I, K) over items 0..I-1, ``theta`` (B, J) for MACE (None for Dawid–Skene),
    ``iterations`` run."""

    prior: np.ndarray
    confusion: np.ndarray
    posterior: np.ndarray
    theta: np.ndarray | None
    iterations: int


def competence(prior: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """P(a worker's label equals the true label) = sum_k pi_k * confusion[j, k, k]; (B, J).

    >>> competence(np.array([[0.5, 0.5]]), np.array([[[[0.9, 0.1], [0.3, 0.7]]]])).round(6).tolist()
    [[0.8]]
    """
    diag = np.diagonal(confusion, axis1=-2, axis2=-1)
    return (prior[:, None, :] * diag).sum(axis=-1)


def chance_competence(prior: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """The competence of a worker with the same label shares who ignores the item:
    sum_k pi_k * q_jk with q_jk = sum_t pi_t confusion[j, t, k]; (B, J).

    Example: pi = (.5, .5), confusion rows (.9, .1) and (.3, .7): q = (.6, .4), chance = .5.

    >>> chance_competence(np.array([[0.5, 0.5]]), np.array([[[[0.9, 0.1], [0.3, 0.7]]]])).round(6).tolist()
    [[0.5]]
    """
    q = np.einsum("bt,bjtk->bjk", prior, confusion)
    return (prior[:, None, :] * q).sum(axis=-1)


def _group_sum(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.add.reduceat(x, starts, axis=1)


def fit_latent_class(item: np.ndarray, worker: np.ndarray, label: np.ndarray, *, n_classes: int,
                     weights: np.ndarray | None = None, model: str = "dawid-skene", smoothing: float = 0.01,
                     init_posterior: np.ndarray | None = None, tol: float = 1e-7,
                     max_iter: int = 300, item_weights: np.ndarray | None = None,
                     e_weights: np.ndarray | None = None) -> LatentClassFit:
    """Fit Dawid–Skene or MACE by EM.

    ``item`` (ids 0..I-1, every id used), ``worker`` (0..J-1) and ``label`` (0..K-1) are per-vote
    arrays; ``weights`` is (B, V) (default: one weighting of 1s). Items whose votes all have weight 0
    in a weighting take no part in that weighting's fit (their posterior is still computed).
    ``init_posterior`` (I, K) starts EM there instead of at the vote shares (bootstrap resamples
    start from the full-data fit: fewer iterations, and the classes keep their meaning). EM stops
    when no confusion probability moves by more than ``tol``.

    ``item_weights`` (B, I): each item's weight in the class prior (default: the mean weight of
    its votes; a design-weighted fit passes the bootstrap count of the item's query, so that every
    pair counts once whatever number of votes the design drew on it). Design weights may be
    negative for a vote (an adaptive round drew more votes on a pair than expected); a count
    that comes out below 0 counts as 0 before the smoothing.
    ``e_weights`` (B, V) or (1, V): each vote's log-likelihood is multiplied by its weight in the
    E step (a weighted pseudo-likelihood; default: 1, as for bootstrap counts, which repeat whole
    items and so leave an item's posterior as it is).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}")
    item = np.asarray(item, dtype=np.int64)
    worker = np.asarray(worker, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    k = n_classes
    v = item.size
    n_items = int(item.max()) + 1 if v else 0
    n_workers = int(worker.max()) + 1 if v else 0
    w = np.ones((1, v)) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    b = w.shape[0]
    order = np.argsort(item, kind="stable")
    item, worker, label, w = item[order], worker[order], label[order], w[:, order]
    ew = None if e_weights is None else np.broadcast_to(np.atleast_2d(np.asarray(e_weights, dtype=float)), (b, v))[:, order]
    starts = np.flatnonzero(np.r_[True, item[1:] != item[:-1]])
    if starts.size != n_items:
        raise ValueError("every item id 0..I-1 needs at least one vote")
    onehot_l = np.eye(k)[label]  # (V, K)
    cell = np.zeros((v, n_workers * k))
    cell[np.arange(v), worker * k + label] = 1.0  # vote -> (worker, label)
    if item_weights is None:
        item_w = _group_sum(w, starts) / np.maximum(np.diff(np.r_[starts, v]), 1)  # (B, I) weight of the item
    else:
        item_w = np.broadcast_to(np.atleast_2d(np.asarray(item_weights, dtype=float)), (b, n_items))
    # initial posterior: weighted vote shares of each item
    if init_posterior is not None:
        post = np.broadcast_to(np.asarray(init_posterior, dtype=float), (b, n_items, k)).copy()
    else:
        shares = _group_sum(w[:, :, None] * onehot_l[None], starts)
        shares = np.maximum(shares, 0.0)
        post = (shares + 1e-9) / (shares + 1e-9).sum(axis=2, keepdims=True)
    theta = np.full((b, n_workers), 0.5)
    xi = np.full((b, n_workers, k), 1.0 / k)
    prior = np.full((b, k), 1.0 / k)
    conf = np.full((b, n_workers, k, k), 1.0 / k)
    active = np.arange(b)
    iterations = 0
    while iterations < max_iter and active.size:
        iterations += 1
        a = active
        na = a.size
        # ---- M step
        tv = post[a][:, item, :] * w[a][:, :, None]  # (A, V, K): weighted posterior of each vote's item
        if model == "dawid-skene":
            pr = np.maximum((item_w[a][:, :, None] * post[a]).sum(axis=1), 0.0) + smoothing
            pr /= pr.sum(axis=1, keepdims=True)
            counts = (tv.transpose(0, 2, 1) @ cell).reshape(na, k, n_workers, k).transpose(0, 2, 1, 3)
            counts = np.maximum(counts, 0.0) + smoothing
            new_conf = counts / counts.sum(axis=3, keepdims=True)
        else:
            xi_v = xi[a][:, worker, label]  # (A, V): xi_j[l_v]
            th_v = theta[a][:, worker]
            p_copy = th_v[:, :, None] * onehot_l[None]  # theta_j [t == l_v]
            p_spam = ((1.0 - th_v) * xi_v)[:, :, None]
            s_copy = tv * p_copy / (p_copy + p_spam)  # expected "copied" mass per (vote, true class)
            s_spam = tv * p_spam / (p_copy + p_spam)
            copy_j = np.maximum((s_copy.sum(axis=2) @ cell).reshape(na, n_workers, k).sum(axis=2), 0.0)
            spam_jl = np.maximum((s_spam.sum(axis=2) @ cell).reshape(na, n_workers, k), 0.0)
            tot_j = copy_j + spam_jl.sum(axis=2)
            theta[a] = (copy_j + smoothing) / (tot_j + 2 * smoothing)
            xi[a] = (spam_jl + smoothing) / (spam_jl.sum(axis=2, keepdims=True) + k * smoothing)
            pr = np.full((na, k), 1.0 / k)
            new_conf = theta[a][:, :, None, None] * np.eye(k) + (1.0 - theta[a])[:, :, None, None] * xi[a][:, :, None, :]
        delta = np.abs(new_conf - conf[a]).reshape(na, -1).max(axis=1)
        conf[a] = new_conf
        prior[a] = pr
        # ---- E step
        logc = np.log(new_conf)  # (A, J, K, K)
        lv = logc.transpose(0, 1, 3, 2)[:, worker, label, :]  # (A, V, K): log P(label_v | true class)
        if ew is not None:
            lv = lv * ew[a][:, :, None]
        logp = np.log(pr)[:, None, :] + _group_sum(lv, starts)
        logp -= logp.max(axis=2, keepdims=True)
        pa = np.exp(logp)
        post[a] = pa / pa.sum(axis=2, keepdims=True)
        active = a[delta >= tol]
    return LatentClassFit(prior=prior, confusion=conf, posterior=post,
                          theta=theta if model == "mace" else None, iterations=iterations)
