"""Muon for convolution and hidden dense weights, AdamW for the rest: ``inkread train --optimizer muon``.

Muon (Jordan et al., 2024) replaces each weight matrix's momentum by the nearest orthogonal matrix
(the same singular vectors, every singular value near 1), computed with a few Newton-Schulz steps,
so that every direction of the layer learns at the same rate. PyTorch's own ``torch.optim.Muon``
takes only 2-D parameters and runs its iteration in bf16, which CPUs without native bf16 emulate
slowly; a convolution's filters are a matrix too (output channels x inputs), so this one views
them so, and iterates in float32. Biases, batch-norm scales and the output layer keep AdamW, as
Muon's authors advise: they are not matrices whose directions matter.

Updates are scaled to AdamW's size (0.2 x sqrt(larger side), PyTorch's ``match_rms_adamw``), so one
learning rate and schedule drive both parts, times ``MUON_LR_RATIO``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.adamw import adamw

# How much larger the Muon updates are than AdamW-sized ones. Measured on MNIST (benchmarks/EXPERIMENTS.md,
# seeds 0 and 1): ratios 1, 2, 4 and 8 gave mean test accuracies of 99.56, 99.58, 99.61 and 99.59%.
MUON_LR_RATIO = 4.0
MOMENTUM = 0.95
NEWTON_SCHULZ_STEPS = 5
# The quintic iteration's coefficients (Jordan et al.; also PyTorch's): steep at zero, so small singular
# values grow fast; they end between about 0.7 and 1.2 rather than at exactly 1, which does not hurt.
_A, _B, _C = 3.4445, -4.7750, 2.0315


def orthogonalize(matrix: torch.Tensor, steps: int = NEWTON_SCHULZ_STEPS) -> torch.Tensor:
    """The matrix with its singular values pushed to about 1 (its singular vectors kept), in float32."""
    x = matrix.float()
    x = x / (x.norm() + 1e-7)  # every singular value at most 1, where the iteration converges
    tall = x.shape[0] > x.shape[1]
    if tall:  # iterate on the smaller Gram matrix
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = _A * x + (_B * gram + _C * gram @ gram) @ x
    return x.T if tall else x


def output_layer(model: nn.Module) -> nn.Module | None:
    """The network's last ``nn.Linear``: the layer that scores the classes."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


class MuonWithAdamW(torch.optim.Optimizer):
    """Muon for every weight of two or more dimensions except the output layer's; AdamW for the others.

    One learning rate (``lr``, as a schedule sets it) and one decoupled ``weight_decay`` for both.
    """

    def __init__(self, model: nn.Module, lr: float, weight_decay: float = 0.0,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        last = output_layer(model)
        kept = {id(p) for p in last.parameters()} if last is not None else set()
        muon, others = [], []
        for parameter in model.parameters():
            if parameter.requires_grad:
                (muon if parameter.ndim >= 2 and id(parameter) not in kept else others).append(parameter)
        groups = [dict(params=muon, muon=True), dict(params=others, muon=False)]
        super().__init__([g for g in groups if g["params"]],
                         dict(lr=lr, weight_decay=weight_decay, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            parameters = [p for p in group["params"] if p.grad is not None]
            if not group["muon"]:
                self._adamw_step(parameters, group)
                continue
            lr = group["lr"]
            for parameter in parameters:
                parameter.mul_(1 - lr * group["weight_decay"])
                self._muon_step(parameter, lr)
        return loss

    def _muon_step(self, parameter: torch.Tensor, lr: float) -> None:
        grad, state = parameter.grad, self.state[parameter]
        if "momentum" not in state:
            state["momentum"] = torch.zeros_like(grad)
        momentum = state["momentum"]
        momentum.lerp_(grad, 1 - MOMENTUM)
        update = grad.lerp(momentum, MOMENTUM).reshape(grad.shape[0], -1)  # Nesterov; filters as rows
        scale = MUON_LR_RATIO * 0.2 * math.sqrt(max(update.shape))
        parameter.add_(orthogonalize(update).view_as(parameter).to(parameter.dtype), alpha=-lr * scale)

    def _adamw_step(self, parameters: list[torch.Tensor], group: dict) -> None:
        # PyTorch's own AdamW update, through its functional form: one optimizer object must hold both
        # parts, so that one schedule sets both learning rates and one state_dict checkpoints both.
        states = [self.state[p] for p in parameters]
        for parameter, state in zip(parameters, states):
            if not state:  # the state torch.optim.AdamW keeps, under its names
                state["step"] = torch.tensor(0.0)
                state["exp_avg"] = torch.zeros_like(parameter)
                state["exp_avg_sq"] = torch.zeros_like(parameter)
        beta1, beta2 = group["betas"]
        adamw(parameters, [p.grad for p in parameters], [s["exp_avg"] for s in states],
              [s["exp_avg_sq"] for s in states], [], [s["step"] for s in states], foreach=False,
              amsgrad=False, beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
              eps=group["eps"], maximize=False)
