"""The runner's optimizer hook: a model may supply its own parameter groups."""

import torch

from graphsmooth.bench.tasks.classification import make_optimizer


class _Plain(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(3, 3)
        self.b = torch.nn.Linear(3, 2)


class _Grouped(_Plain):
    def param_groups(self, lr, weight_decay):
        # the closing layer learns 10x slower and without weight decay
        return [
            {"params": self.a.parameters()},
            {"params": self.b.parameters(), "lr": lr / 10, "weight_decay": 0.0},
        ]


def test_plain_model_gets_one_group():
    opt = make_optimizer(_Plain(), 0.01, 1e-4)
    assert len(opt.param_groups) == 1
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["weight_decay"] == 1e-4
    assert len(opt.param_groups[0]["params"]) == 4


def test_model_param_groups_are_used():
    model = _Grouped()
    opt = make_optimizer(model, 0.01, 1e-4)
    g0, g1 = opt.param_groups
    assert (g0["lr"], g0["weight_decay"]) == (0.01, 1e-4)  # defaults filled from the config
    assert (g1["lr"], g1["weight_decay"]) == (0.001, 0.0)
    assert {id(p) for p in g1["params"]} == {id(p) for p in model.b.parameters()}
    # one step moves the slow layer by about a tenth of the fast one (Adam steps ~ lr)
    before = [p.detach().clone() for p in model.parameters()]
    model.b(model.a(torch.randn(8, 3))).square().sum().backward()
    opt.step()
    da = (model.a.weight - before[0]).abs().max().item()
    db = (model.b.weight - before[2]).abs().max().item()
    assert 0.05 < db / da < 0.2
