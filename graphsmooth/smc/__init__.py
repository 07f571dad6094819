r"""Sequential Monte Carlo smoothing: particle filters, PaRIS, Parisian particle Gibbs, learning.

- :mod:`~graphsmooth.smc.models`: the batched :class:`StateSpaceModel` protocol and built-in
  :class:`LinearGaussian`, :class:`StochasticVolatility`, :class:`GrowthModel`.
- :mod:`~graphsmooth.smc.filter`: :class:`ParticleFilter` (an iterator) and resampling schemes
  registered by name.
- :mod:`~graphsmooth.smc.paris`: :func:`paris`, online smoothing of additive functionals.
- :mod:`~graphsmooth.smc.ppg`: :func:`ppg`, Parisian particle Gibbs.
- :mod:`~graphsmooth.smc.learning`: :func:`score_ascent`, :func:`markov_score_climbing`.
- :mod:`~graphsmooth.smc.kalman`: exact references for linear Gaussian models (statsmodels).
"""

from .filter import (
    RESAMPLING_SCHEMES,
    FilterState,
    ParticleFilter,
    effective_sample_size,
    get_resampling,
    resample,
    resampling_scheme,
)
from .functionals import (
    concat_functionals,
    lag_outer_sum,
    linear_gaussian_statistics,
    log_joint_functional,
    state_outer_sum,
    state_sum,
)
from .kalman import KalmanSmoothing, kalman_smoother
from .learning import (
    LearningResult,
    ObservedInformation,
    ScoreEstimate,
    fisher_score,
    markov_score_climbing,
    observed_information,
    score_ascent,
)
from .models import (
    GrowthModel,
    LinearGaussian,
    Simulation,
    StateSpaceModel,
    StochasticVolatility,
    simulate,
)
from .paris import (
    BackwardDraws,
    ParisHistory,
    ParisResult,
    backward_sample,
    paris,
    paris_update,
)
from .ppg import PPGResult, ppg, ppg_sweep

__all__ = [
    "StateSpaceModel",
    "LinearGaussian",
    "StochasticVolatility",
    "GrowthModel",
    "Simulation",
    "simulate",
    "ParticleFilter",
    "FilterState",
    "RESAMPLING_SCHEMES",
    "resampling_scheme",
    "get_resampling",
    "resample",
    "effective_sample_size",
    "state_sum",
    "state_outer_sum",
    "lag_outer_sum",
    "concat_functionals",
    "linear_gaussian_statistics",
    "log_joint_functional",
    "fisher_score",
    "paris",
    "paris_update",
    "backward_sample",
    "BackwardDraws",
    "ParisResult",
    "ParisHistory",
    "ppg",
    "ppg_sweep",
    "PPGResult",
    "score_ascent",
    "markov_score_climbing",
    "LearningResult",
    "ScoreEstimate",
    "observed_information",
    "ObservedInformation",
    "kalman_smoother",
    "KalmanSmoothing",
]
