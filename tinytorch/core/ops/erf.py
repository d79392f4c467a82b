"""A vectorised error function for the exact GELU (numpy has none, and scipy is not a dependency).

Uses the classic fdlibm piecewise rational approximations, accurate to about 1e-16 in float64.
"""

from __future__ import annotations

import numpy as np

# |x| < 0.84375: erf(x) = x + x * P(x^2) / Q(x^2)
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
# 0.84375 <= |x| < 1.25: erf(x) = erx + P(s) / Q(s), s = |x| - 1
_ERX = 8.45062911510467529297e-01
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
# 1.25 <= |x| < 1/0.35: erfc(x) = exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / x
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e01,
       -6.23753324503260060396e01, -1.62396669462573470355e02, -1.84605092906711035994e02,
       -8.12874355063065934246e01, -9.81432934416914548592e00)
_SA = (1.96512716674392571292e01, 1.37657754143519042600e02, 4.34565877475229228821e02,
       6.45387271733267880336e02, 4.29008140027567833386e02, 1.08635005541779435134e02,
       6.57024977031928170135e00, -6.04244152148580987438e-02)
# 1/0.35 <= |x| < 6
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e01,
       -1.60636384855821916062e02, -6.37566443368389627722e02, -1.02509513161107724954e03,
       -4.83519191608651397019e02)
_SB = (3.03380607434824582924e01, 3.25792512996573918826e02, 1.53672958608443695994e03,
       3.19985821950859553908e03, 2.55305040643316442583e03, 4.74528541206955367215e02,
       -2.24409524465858183362e01)


def _poly(z, coeffs):
    """c0 + c1 z + c2 z^2 + ... by Horner's rule."""
    result = np.zeros_like(z)
    for c in reversed(coeffs):
        result = result * z + c
    return result


def erf(x: np.ndarray) -> np.ndarray:
    """erf(x) elementwise, computed in float64 and returned in x's float dtype."""
    x = np.asarray(x)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.float64
    x64 = x.astype(np.float64)
    ax = np.abs(x64)
    sign = np.sign(x64)
    out = np.empty_like(x64)

    small = ax < 0.84375
    z = x64[small] ** 2
    out[small] = x64[small] + x64[small] * _poly(z, _PP) / (1 + z * _poly(z, _QQ))

    mid = (ax >= 0.84375) & (ax < 1.25)
    s = ax[mid] - 1
    out[mid] = sign[mid] * (_ERX + _poly(s, _PA) / (1 + s * _poly(s, _QA)))

    for lo, hi, r, q in ((1.25, 1 / 0.35, _RA, _SA), (1 / 0.35, 6.0, _RB, _SB)):
        band = (ax >= lo) & (ax < hi)
        a = ax[band]
        w = 1 / (a * a)
        # Splitting a^2 keeps the exponent exact enough, as fdlibm does by truncating a.
        a_hi = a.astype(np.float32).astype(np.float64)
        erfc = np.exp(-a_hi * a_hi - 0.5625) * np.exp((a_hi - a) * (a_hi + a) + _poly(w, r) / (1 + w * _poly(w, q))) / a
        out[band] = sign[band] * (1 - erfc)

    large = ax >= 6.0
    out[large] = sign[large]
    out[np.isnan(x64)] = np.nan
    return out.astype(out_dtype, copy=False)
