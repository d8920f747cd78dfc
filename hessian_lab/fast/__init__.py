"""The fast paths, behind the same public API: a compiled, level-grouped tape, and sparse Hessians by colouring.

The per-node engine (hessian_lab.backprop, hessian_lab.hessian) is the readable definition; everything
here must agree with it to round-off, and is reached only through hessian_lab.api.
"""
