"""Loop-style re-statements of the official ASVspoof metric code, used as test references.

Written for voxlab from the published algorithms (ASVspoof 2019/2021 eval packages,
ASVspoof 5 package, a_DCF, t-EER); deliberately literal and slow.
"""

from __future__ import annotations

import numpy as np


def det_curve(tar, non):
    scores = np.concatenate((tar, non))
    labels = np.concatenate((np.ones(tar.size), np.zeros(non.size)))
    idx = np.argsort(scores, kind="mergesort")
    labels = labels[idx]
    tar_sums = np.cumsum(labels)
    non_sums = non.size - (np.arange(1, scores.size + 1) - tar_sums)
    frr = np.concatenate(([0.0], tar_sums / tar.size))
    far = np.concatenate(([1.0], non_sums / non.size))
    thr = np.concatenate(([scores[idx[0]] - 0.001], scores[idx]))
    return frr, far, thr


def eer(tar, non):
    frr, far, thr = det_curve(tar, non)
    i = np.argmin(np.abs(frr - far))
    return np.mean((frr[i], far[i])), thr[i]


def three_curves(tar, non, spf):
    scores = np.concatenate((tar, non, spf))
    labels = np.concatenate((np.ones(tar.size), np.zeros(non.size), -np.ones(spf.size)))
    idx = np.argsort(scores, kind="mergesort")
    labels = labels[idx]
    pmiss = np.concatenate(([0.0], np.cumsum(labels == 1) / tar.size))
    pfa_non = np.concatenate(([1.0], 1 - np.cumsum(labels == 0) / non.size))
    pfa_spf = np.concatenate(([1.0], 1 - np.cumsum(labels == -1) / spf.size))
    thr = np.concatenate(([scores[idx[0]] - 0.001], scores[idx]))
    return pmiss, pfa_non, pfa_spf, thr


def min_dcf_loop(tar, non, p_spoof=0.05, c_miss=1, c_fa=10):
    frr, far, thr = det_curve(tar, non)
    best, best_thr = float("inf"), None
    p_target = 1 - p_spoof
    for i in range(len(frr)):
        c = c_miss * frr[i] * p_target + c_fa * far[i] * (1 - p_target)
        if c < best:
            best, best_thr = c, thr[i]
    return best / min(c_miss * p_target, c_fa * (1 - p_target)), best_thr


def a_dcf_loop(trg, non, spf, p_spf=0.05, p_non=0.05, p_trg=0.9, c_miss=1, c_fa_asv=10, c_fa_cm=20):
    scores = np.concatenate((trg, non, spf))
    labels = np.concatenate((np.ones_like(trg), np.zeros_like(non), np.ones_like(spf) + 1))
    idx = np.argsort(scores, kind="mergesort")
    fp_non, fp_spf, fn = len(non), len(spf), 0
    fa_asv, fa_cm, frr, thr = [1.0], [1.0], [0.0], [float(np.min(scores)) - 1e-8]
    for sco, lab in zip(scores[idx], labels[idx], strict=True):
        if lab == 0:
            fp_non -= 1
        elif lab == 1:
            fn += 1
        else:
            fp_spf -= 1
        fa_asv.append(fp_non / len(non))
        fa_cm.append(fp_spf / len(spf))
        frr.append(fn / len(trg))
        thr.append(sco)
    dcfs = (
        np.array([c_miss * p_trg]) * np.array(frr)
        + np.array([c_fa_asv * p_non]) * np.array(fa_asv)
        + np.array([c_fa_cm * p_spf]) * np.array(fa_cm)
    )
    dcfs = dcfs / min(c_fa_asv * p_non + c_fa_cm * p_spf, c_miss * p_trg)
    i = np.argmin(dcfs)
    return dcfs[i], thr[i]


def t_eer_loop(asv_tar, asv_non, asv_spf, cm_tar, cm_non, cm_spf):
    """Concurrent t-EER (fraction) as the ASVspoof 5 compute_teer (rho = 0 pass)."""
    pmiss_asv, pfa_non_asv, pfa_spf_asv, tau_asv = three_curves(asv_tar, asv_non, asv_spf)
    pmiss_cm, pfa_cm, tau_cm = det_curve(np.concatenate([cm_tar, cm_non]), cm_spf)
    rho = 0
    best = np.inf
    found = None
    for j in range(len(tau_asv)):
        pmiss_tdm = pmiss_cm + (1 - pmiss_cm) * pmiss_asv[j]
        pfa_tdm = (1 - rho) * (1 - pmiss_cm) * pfa_non_asv[j] + rho * pfa_cm * pfa_spf_asv[j]
        i = np.argmin(abs(pmiss_tdm - pfa_tdm))
        if pmiss_asv[j] < (1 - rho) * pfa_non_asv[j] + rho * pfa_spf_asv[j]:
            with np.errstate(divide="ignore", invalid="ignore"):
                lhs = pfa_non_asv[j] / pfa_spf_asv[j]
                rhs = pfa_cm[i] / (1 - pmiss_cm[i])
                crit = abs(lhs - rhs)
            if crit < best:
                best = crit
                found = (pfa_spf_asv[j] * pfa_cm[i], tau_asv[j], tau_cm[i])
    return found
