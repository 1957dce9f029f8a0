"""rag.bert's arithmetic pieces, against their plain NumPy expressions."""

import numpy as np
import pytest

from rag.bert import erf, gelu


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 7, 1536), (4, 300, 1536)])
def test_gelu_in_place_gives_the_same_bits_as_the_plain_expression(shape):
    x = (np.random.default_rng(sum(shape)).standard_normal(shape) * 4).astype(np.float32)
    x[..., 0] = 0.0
    keep = x.copy()
    plain = 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))
    out = gelu(x)
    assert out.dtype == np.float32 and np.array_equal(out, plain)
    assert np.array_equal(x, keep)  # the input is not overwritten


def test_erf_close_to_the_exact_function():
    import math

    xs = np.linspace(-5, 5, 201).astype(np.float32)
    exact = np.array([math.erf(float(v)) for v in xs])
    assert np.abs(erf(xs) - exact).max() < 1e-6
