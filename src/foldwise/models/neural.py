"""Neural model kinds behind the fold interface: a backbone trained by the one loop.

A kind is a :class:`foldwise.train.backbone.Backbone` plus a :class:`NeuralModel` subclass
naming it; fitting, predicting, saving and loading go through :mod:`foldwise.train.training`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from .base import TextModel

#: what a head keeps beside a saved model's weights (:meth:`foldwise.train.heads.Head.state`)
HEAD_STATE = "head_state.json"


class NeuralModel(TextModel):
    """Fine-tune a backbone on a fold; predictions come from the best evaluation's weights."""

    #: the kind's Backbone class, built from the model config
    backbone_class: ClassVar[type]
    uses_head = True

    def __init__(
        self,
        config: Any,
        task: str,
        n_labels: int,
        seed: int,
        workdir: Path | None = None,
        resume: bool = False,
        fingerprint: str | None = None,
        head: Any = None,
        single_label: bool = False,
        numeric: bool = False,
    ):
        super().__init__(
            config,
            task,
            n_labels,
            seed,
            workdir=workdir,
            resume=resume,
            fingerprint=fingerprint,
            head=head,
            single_label=single_label,
            numeric=numeric,
        )
        if head is None:
            raise ValueError(f"{type(self).__name__} trains the task's head: pass head=task.head(config)")
        self.backbone = self.backbone_class(config)

    @classmethod
    def check_can_run(cls, config: Any) -> None:
        """Before any fold: the model's files are there (a folder, or a hub id cached or reachable)."""
        from .model_files import model_config

        model_config(config.name_or_path)

    def fit(self, texts, targets, valid_texts=None, valid_targets=None) -> None:
        from ..train import training

        self.result_ = training.fit(
            self.backbone,
            self.head,
            self.seed,
            texts,
            targets,
            valid_texts,
            valid_targets,
            workdir=self.workdir,
            resume=self.resume,
            fingerprint=self.fingerprint,
        )
        self.history_ = self.result_.history
        self.valid_preds_ = self.result_.valid_preds
        self.precision_ = self.result_.precision

    def predict(self, texts) -> Any:
        from ..train import training

        return training.predict(self.backbone, self.head, self.result_.model, self.result_.tokenizer, texts)

    def save(self, folder: Path) -> None:
        """The backbone's files, and ``head_state.json`` where the head keeps state beside its weights."""
        from ..io import artifacts

        self.backbone.save(self.result_.model, self.result_.tokenizer, folder, self.head)
        state = self.head.state()
        if state:
            artifacts.write_json(folder / HEAD_STATE, state)

    @classmethod
    def load_predictor(cls, folder: Path, config: Any, task: str, n_labels: int, head: Any = None) -> NeuralModel:
        from ..train import training

        model = cls(config, task=task, n_labels=n_labels, seed=0, head=head)
        module, tokenizer = model.backbone.load(folder, model.head)
        if (folder / HEAD_STATE).exists():
            model.head.restore(json.loads((folder / HEAD_STATE).read_text()))
        model.result_ = training.FitResult(model=module, tokenizer=tokenizer, history=[], best_step=0)
        return model
