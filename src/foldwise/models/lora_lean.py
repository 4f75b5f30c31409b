"""A leaner forward for peft's LoRA linear layers: the same function, fewer passes over memory.

peft's ``lora.Linear`` computes ``base(x) + lora_B(lora_A(dropout(x.to(A.dtype)))) * scaling``:
per adapted layer and step, a cast of the input to the adapter's dtype (which autocast then
casts back), a multiplication and an addition over the whole ``(tokens, out_features)``
output, and one dropout mask the size of the input. On a CPU these element-wise passes
cost a sizeable share of a LoRA step beside its matmuls. :func:`make_lean` gives peft's
layers a forward that computes

    ``base(x).add_((dropout(x) @ A.T * scaling) @ B.T)``

so the scaling multiplies the small ``(tokens, r)`` projection instead of the layer's output,
the update is added in place (a linear layer keeps its input for backward, never its
output), the input is never cast (autocast chooses the dtype), and layers that read the
same input tensor (``q``/``k``/``v``, ``gate``/``up``) share one dropout mask instead of
drawing one each. Anything else — merged or disabled adapters, several active adapters,
DoRA and other variants, inputs whose dtype differs from the adapter's outside autocast —
takes peft's own forward.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F


def _peft_linear() -> type:
    from peft.tuners.lora.layer import Linear

    return Linear


class _SharedDropout:
    """The last input a layer dropped out and its dropped copy, shared by every adapted layer
    of a model: consecutive layers reading the same tensor reuse the mask."""

    def __init__(self) -> None:
        self.source: torch.Tensor | None = None
        self.dropped: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, dropout: Any) -> torch.Tensor:
        if not isinstance(dropout, torch.nn.Dropout) or not dropout.training or dropout.p == 0:
            return x
        if self.source is not x:
            self.source, self.dropped = x, F.dropout(x, dropout.p, training=True)
        return self.dropped

    def clear(self) -> None:
        """Drop the held tensors (so that they do not outlive a step)."""
        self.source = self.dropped = None


def lean_forward(layer: Any, shared: _SharedDropout, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """``layer``'s output, by the lean path when it applies, else by peft's forward."""
    adapters = layer.active_adapters
    name = adapters[0] if len(adapters) == 1 else None
    A = layer.lora_A[name].weight if name in layer.lora_A else None
    plain = (
        A is not None
        and not args
        and not kwargs
        and not layer.merged
        and not layer.disable_adapters
        and name not in layer.lora_variant
        and (x.dtype == A.dtype or _autocasting(x.device.type))
    )
    if not plain:
        return _peft_linear().forward(layer, x, *args, **kwargs)
    result = layer.base_layer(x)
    low_rank = F.linear(shared(x, layer.lora_dropout[name]), A) * layer.scaling[name]  # (tokens, r): small
    # in place: a linear layer keeps its input for backward, never its output
    return result.add_(F.linear(low_rank, layer.lora_B[name].weight))


def _autocasting(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` (torch < 2.4 had one function per device)."""
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:
        return torch.is_autocast_enabled() if device_type == "cuda" else torch.is_autocast_cpu_enabled()


def make_lean(model: torch.nn.Module) -> int:
    """Give every plain ``lora.Linear`` of ``model`` the lean forward; the number of layers changed.

    The weights, their names, saving, loading and merging stay peft's: only ``forward`` of
    the layer instances changes (quantised layers and other LoRA layer types are left as
    they are). Hooks on ``model`` forget the shared dropout input before and after every
    forward, so no activation outlives its step.
    """
    linear = _peft_linear()
    shared = _SharedDropout()
    changed = 0
    for module in model.modules():
        if type(module) is linear:
            module.forward = _bound(module, shared)
            changed += 1
    if changed:
        model.register_forward_pre_hook(lambda *_: shared.clear())
        model.register_forward_hook(lambda *_: shared.clear())
    return changed


def _bound(layer: Any, shared: _SharedDropout):
    def forward(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return lean_forward(layer, shared, x, *args, **kwargs)

    return forward
