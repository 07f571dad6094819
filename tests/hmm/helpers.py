"""Small random FHMMs for the tests (the brute-force references are in ``reference.py``)."""

import torch

from graphsmooth.hmm import FactorialHMM, GaussianFactors, PoissonFactors


def random_stochastic(shape, gen):
    x = torch.rand(shape, generator=gen, dtype=torch.float64) + 0.05
    return x / x.sum(-1, keepdim=True)


def small_model(kind="gaussian", M=3, L=2, scopes=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    if scopes is None:
        scopes = [[v, v + 1] for v in range(M - 1)]
    mu = random_stochastic((M, L), gen)
    P = random_stochastic((M, L, L), gen)
    F = len(scopes)
    if kind == "gaussian":
        c = 1.0 + torch.rand(F, generator=gen, dtype=torch.float64)
        s2 = 0.5 + torch.rand(F, generator=gen, dtype=torch.float64)
        fac = GaussianFactors(scopes, c=c, sigma2=s2)
        params = {"c": c.numpy(), "sigma2": s2.numpy()}
        values = torch.arange(L, dtype=torch.float64)
    else:
        rate = 1.0 + 2 * torch.rand(F, generator=gen, dtype=torch.float64)
        fac = PoissonFactors(scopes, rate=rate)
        params = {"rate": rate.numpy()}
        values = torch.arange(1, L + 1, dtype=torch.float64)
    model = FactorialHMM(mu, P, fac, state_values=values)
    return model, params


def np_model(model):
    return (
        model.initial.numpy(),
        model.transition.numpy(),
        model.state_values.numpy(),
        [model.scope[f, : int(model.scope_size[f])].tolist() for f in range(model.num_factors)],
    )
