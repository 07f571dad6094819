"""``graphsmooth.bench.report.mean_std_ci`` against numpy and SciPy's t interval."""

import math

import numpy as np
import pytest
from scipy import stats

from graphsmooth.bench.report import mean_std_ci


def test_mean_std_ci_matches_scipy_t_interval():
    values = [0.81, 0.79, 0.835, 0.80, 0.77]
    mean, std, ci = mean_std_ci(values)
    lo, hi = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert mean == pytest.approx(np.mean(values), abs=1e-15)
    assert std == pytest.approx(np.std(values, ddof=1), abs=1e-15)
    assert ci == pytest.approx((hi - lo) / 2, rel=1e-12)


def test_mean_std_ci_small_samples():
    mean, std, ci = mean_std_ci([0.5])
    assert mean == 0.5 and math.isnan(std) and math.isnan(ci)
    with pytest.raises(ValueError, match="empty"):
        mean_std_ci([])
