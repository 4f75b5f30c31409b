"""The experiment's task, head, model and built module, as a fold builds them (for bench scripts)."""

from __future__ import annotations

from typing import Any


def build_experiment(experiment: str, overrides: list[str]) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """(cfg, data, task, head, model, module, tokenizer) of ``experiment`` with ``--set`` ``overrides``,
    on the CPU, seeded like a run."""
    import torch

    from foldwise.data.competition import load_competition
    from foldwise.experiment import load_experiment
    from foldwise.models import model_class
    from foldwise.tasks import competition_task

    cfg = load_experiment(experiment, overrides)
    data = load_competition(cfg.data)
    task = competition_task(cfg.data, data)
    head = task.head(cfg.model)
    model = model_class(cfg.model.kind)(cfg.model, task=task.kind, n_labels=0, seed=cfg.seed, head=head)
    torch.manual_seed(cfg.seed)
    module, tokenizer = model.backbone.build(head, torch.device("cpu"))
    return cfg, data, task, head, model, module, tokenizer
