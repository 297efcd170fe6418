"""The Muon optimizer: orthogonalized updates for weight matrices, AdamW for the rest."""

from __future__ import annotations

import copy

import pytest
import torch

from helpers import train_steps
from inkread.models import build_model
from inkread.training.muon import MuonWithAdamW, orthogonalize, output_layer


@pytest.mark.parametrize("shape", [(8, 30), (30, 8), (16, 16)])
def test_orthogonalize_sets_every_singular_value_near_one_and_keeps_the_directions(shape):
    torch.manual_seed(0)
    u, _ = torch.linalg.qr(torch.randn(shape[0], shape[0]))
    v, _ = torch.linalg.qr(torch.randn(shape[1], shape[1]))
    k = min(shape)
    singular = torch.logspace(0, -2, k)  # a spread of 100x, as gradients have
    matrix = u[:, :k] @ torch.diag(singular) @ v[:, :k].T
    result = orthogonalize(matrix)
    assert result.shape == matrix.shape and result.dtype == torch.float32
    values = torch.linalg.svdvals(result)
    assert values.min() > 0.6 and values.max() < 1.3
    # the same singular vectors: in the input's basis the result is (nearly) diagonal and positive
    in_basis = u[:, :k].T @ result @ v[:, :k]
    assert torch.allclose(in_basis, torch.diag(torch.diagonal(in_basis)), atol=0.05)
    assert (torch.diagonal(in_basis) > 0.6).all()


def test_the_weight_matrices_get_muon_and_the_output_layer_biases_and_norms_get_adamw():
    model = build_model("inknet", 10)
    optimizer = MuonWithAdamW(model, lr=1e-3)
    muon = {id(p) for g in optimizer.param_groups if g["muon"] for p in g["params"]}
    for name, parameter in model.named_parameters():
        is_matrix = parameter.ndim >= 2 and parameter is not output_layer(model).weight
        assert (id(parameter) in muon) == is_matrix, name
    assert len(muon) == 4  # three convolutions and the hidden dense layer


def test_muon_overfits_one_batch():
    torch.manual_seed(0)
    model = build_model("inknet", 10)
    images = torch.rand(32, 1, 28, 28)
    targets = torch.arange(32) % 10
    assert train_steps(model, MuonWithAdamW(model, lr=3e-3, weight_decay=5e-4), images, targets, 60) < 0.05
    # Batch norm's running statistics lag 60 fast steps on noise (on some CPUs 2 of 32 images were then
    # misread in eval mode): set them to this batch's, for the weights as they are now.
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average: after one batch, that batch's statistics
    with torch.no_grad():
        model(images)  # still in training mode, which train_steps left
        model.eval()
        assert (model(images).argmax(1) == targets).all()


def test_a_saved_and_loaded_muon_state_continues_exactly():
    torch.manual_seed(0)
    model = build_model("inknet", 10)
    images, targets = torch.rand(16, 1, 28, 28), torch.arange(16) % 10
    optimizer = MuonWithAdamW(model, lr=1e-3, weight_decay=5e-4)
    train_steps(model, optimizer, images, targets, 2)
    copied = copy.deepcopy(model)
    restored = MuonWithAdamW(copied, lr=1e-3, weight_decay=5e-4)
    restored.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    torch.manual_seed(1)  # the same dropout masks for both
    train_steps(model, optimizer, images, targets, 2)
    torch.manual_seed(1)
    train_steps(copied, restored, images, targets, 2)
    for a, b in zip(model.state_dict().values(), copied.state_dict().values()):
        assert torch.equal(a, b)


def test_the_parameters_outside_muon_are_updated_exactly_as_torch_adamw_does():
    # A network of biases, a norm and an output layer only: every parameter is in the AdamW part.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LayerNorm(784), torch.nn.Linear(784, 10))
    twin = copy.deepcopy(model)
    images, targets = torch.rand(16, 1, 28, 28), torch.arange(16) % 10
    ours = MuonWithAdamW(model, lr=1e-2, weight_decay=0.05)
    assert all(not g["muon"] for g in ours.param_groups)
    train_steps(model, ours, images, targets, 5)
    train_steps(twin, torch.optim.AdamW(twin.parameters(), lr=1e-2, weight_decay=0.05), images, targets, 5)
    for a, b in zip(model.state_dict().values(), twin.state_dict().values()):
        assert torch.equal(a, b)
