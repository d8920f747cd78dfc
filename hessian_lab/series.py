"""Taylor-series recurrences for the primitives whose rule is faster or more exact than the one derived from partials.

Each rule maps the arguments' truncated Taylor series (arrays of shape (directions, k+1)) to the node's
series, through a sweep object `s` that supplies constant_series(value) and convolve(a, b, j, lo, hi, w)
(Σ_{i=lo..hi} w_i a_i b_{j-i}, counted). Coefficient 0 is overwritten afterwards by the domain-checked
primal value. References: Griewank and Walther, Evaluating Derivatives (2008), Table 13.1.
The primitive table (hessian_lab.ops) names the rule of each row; a row without one gets the rule
derived from its partials (hessian_lab.beyond.taylor).
"""

import numpy as np


def mul(s, a, b):
    """(a b)_j = Σ_{i=0..j} a_i b_{j-i}: the Cauchy product."""
    y = s.constant_series(0.0)
    for j in range(s.k + 1):
        y[:, j] = s.convolve(a, b, j, 0, j)
    return y


def div(s, a, b):
    """y = a / b: y_j = (a_j - Σ_{i<j} y_i b_{j-i}) / b_0, from a = y b."""
    y = s.constant_series(a[0, 0] / b[0, 0])
    for j in range(1, s.k + 1):
        y[:, j] = (a[:, j] - s.convolve(y, b, j, 0, j - 1)) / b[:, 0]
    return y


def powc(s, a, p):
    """y = a^p: whole p >= 1 by repeated Cauchy squaring (no division by a_0, so exact near 0); else by a y' = p y a'."""
    if float(p).is_integer() and p >= 1:
        return whole_power(s, a, int(p))
    y = s.constant_series(a[0, 0] ** p)
    for j in range(1, s.k + 1):
        weights = (p * (j - np.arange(j)) - np.arange(j)) / (j * a[0, 0])
        y[:, j] = s.convolve(y, a, j, 0, j - 1, weights)
    return y


def whole_power(s, a, p):
    """a^p for a whole p >= 1 by repeated squaring of Cauchy products: O(log p) products, no division."""
    result, square = None, a
    while p:
        if p & 1:
            result = square if result is None else mul(s, result, square)
        p >>= 1
        if p:
            square = mul(s, square, square)
    return result


def pow_(s, a, b):
    """y = a^b = exp(b log a), composed from the log, product and exp recurrences."""
    return exp(s, mul(s, b, log(s, a)))


def ode(s, a, y0, w_coefficient):
    """y with y' = w(y) a' and y(0) = y0: j y_j = Σ_{i=1..j} i a_i w_{j-i}, w_m = w_coefficient(y, m) from y_0..y_m."""
    y = s.constant_series(y0)
    w = s.constant_series(0.0)
    w[:, 0] = w_coefficient(y, 0)
    for j in range(1, s.k + 1):
        y[:, j] = s.convolve(a, w, j, 1, j, np.arange(1, j + 1) / j)
        w[:, j] = w_coefficient(y, j)
    return y


def exp(s, a):
    """exp: y' = y a'."""
    return ode(s, a, np.exp(a[0, 0]), lambda y, m: y[:, m])


def tan(s, a):
    """tan: y' = (1 + y²) a'."""
    return ode(s, a, np.tan(a[0, 0]), lambda y, m: (m == 0) + s.convolve(y, y, m, 0, m))


def tanh(s, a):
    """tanh: y' = (1 - y²) a'."""
    return ode(s, a, np.tanh(a[0, 0]), lambda y, m: (m == 0) - s.convolve(y, y, m, 0, m))


def logistic(a):
    """1 / (1 + e^-a) without overflow for any a (numbers or arrays): exp only ever sees -|a|."""
    e = np.exp(-np.abs(a))
    return np.where(np.greater_equal(a, 0), 1 / (1 + e), e / (1 + e))[()]


def sigmoid(s, a):
    """sigmoid: y' = y (1 - y) a', with y_0 = logistic(a_0)."""
    return ode(s, a, logistic(a[0, 0]), lambda y, m: y[:, m] - s.convolve(y, y, m, 0, m))


def log(s, a):
    """log: a y' = a', so y_j = (a_j - Σ_{i=1..j-1} (i/j) y_i a_{j-i}) / a_0."""
    y = s.constant_series(np.log(a[0, 0]))
    for j in range(1, s.k + 1):
        y[:, j] = (a[:, j] - s.convolve(y, a, j, 1, j - 1, np.arange(1, j) / j)) / a[:, 0]
    return y


def sqrt(s, a):
    """sqrt: y² = a, so y_j = (a_j - Σ_{i=1..j-1} y_i y_{j-i}) / (2 y_0)."""
    y = s.constant_series(np.sqrt(a[0, 0]))
    for j in range(1, s.k + 1):
        y[:, j] = (a[:, j] - s.convolve(y, y, j, 1, j - 1)) / (2 * y[:, 0])
    return y


def rotation(s, a, u0, v0, sign):
    """The pair u' = v a', v' = sign u a' from u(0) = u0, v(0) = v0: sin and cos for sign -1, sinh and cosh for +1."""
    u, v = s.constant_series(u0), s.constant_series(v0)
    for j in range(1, s.k + 1):
        weights = np.arange(1, j + 1) / j
        u[:, j] = s.convolve(a, v, j, 1, j, weights)
        v[:, j] = sign * s.convolve(a, u, j, 1, j, weights)
    return u, v


def sin(s, a):
    """sin, from the sin-cos pair."""
    return rotation(s, a, np.sin(a[0, 0]), np.cos(a[0, 0]), -1)[0]


def cos(s, a):
    """cos, from the sin-cos pair."""
    return rotation(s, a, np.sin(a[0, 0]), np.cos(a[0, 0]), -1)[1]


def sinh(s, a):
    """sinh, from the sinh-cosh pair."""
    return rotation(s, a, np.sinh(a[0, 0]), np.cosh(a[0, 0]), 1)[0]


def cosh(s, a):
    """cosh, from the sinh-cosh pair."""
    return rotation(s, a, np.sinh(a[0, 0]), np.cosh(a[0, 0]), 1)[1]


def expm1(s, a):
    """expm1: y' = (y + 1) a', with y_0 = expm1(a_0), exact for tiny a_0."""
    return ode(s, a, np.expm1(a[0, 0]), lambda y, m: y[:, m] + (m == 0))


def log10(s, a):
    """log10 = log / ln 10."""
    return log(s, a) / np.log(10.0)


def log2(s, a):
    """log2 = log / ln 2."""
    return log(s, a) / np.log(2.0)


def hypot(s, a, b):
    """hypot = sqrt(a² + b²), from the product and sqrt recurrences."""
    return sqrt(s, mul(s, a, a) + mul(s, b, b))


def step(s, a):
    """A step (floor, sign, ...) is constant between jumps: every coefficient past the value is 0."""
    return s.constant_series(0.0)
