r"""Factorial hidden Markov models: exact inference, the Graph Filter / Graph Smoother and EM.

From "Exploiting locality in high-dimensional factorial hidden Markov models"
(Rimella & Whiteley, JMLR 2022, https://arxiv.org/abs/1902.01639).

* :class:`FactorialHMM` with :class:`GaussianFactors`, :class:`PoissonFactors` or
  :class:`CallableFactors` emissions;
* :func:`exact_filter` / :func:`exact_smoother`: forward-backward on the joint chain (small M);
* :func:`graph_filter` / :func:`graph_smoother`: the paper's local approximations, linear in M;
* :func:`fit_em`: EM with the Graph Smoother (or the exact smoother) in the E-step;
* :func:`one_step_predictive` / :func:`factor_predictive`: predictive means and quantiles.
"""

from graphsmooth.hmm.em import EMResult, fit_em, m_step
from graphsmooth.hmm.exact import ExactFilterResult, SmootherResult, exact_filter, exact_smoother
from graphsmooth.hmm.factorial import (
    CallableFactors,
    FactorialHMM,
    FactorTables,
    GaussianFactors,
    PoissonFactors,
    chain_scopes,
    factor_log_tables,
    gaussian_chain,
)
from graphsmooth.hmm.graph_filter import (
    GraphFilterPlan,
    GraphFilterResult,
    graph_filter,
    graph_filter_plan,
    graph_smoother,
    one_step_predictive,
)
from graphsmooth.hmm.predictive import FactorPredictive, factor_predictive

__all__ = [
    "FactorPredictive",
    "factor_predictive",
    "EMResult",
    "fit_em",
    "m_step",
    "CallableFactors",
    "ExactFilterResult",
    "FactorTables",
    "FactorialHMM",
    "GaussianFactors",
    "GraphFilterPlan",
    "GraphFilterResult",
    "PoissonFactors",
    "SmootherResult",
    "chain_scopes",
    "exact_filter",
    "exact_smoother",
    "factor_log_tables",
    "gaussian_chain",
    "graph_filter",
    "graph_filter_plan",
    "graph_smoother",
    "one_step_predictive",
]
