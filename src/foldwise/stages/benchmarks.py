"""``make benchmarks``: the auxiliary benchmarks run through the kit's own stages and scored.

Each benchmark is a dataset laid out as a Kaggle competition (:mod:`foldwise.data.converters`)
with its metric in its data config. For each one the runner does what a user would:
``foldwise data``, ``folds``, ``train`` of every model's experiment config, ``ensemble``
of each model alone and of their blend; then it scores each submission: the
cross-validated score (cross-fitted decisions: the honest estimate) where the benchmark
cross-validates, or the held-out test score against ``data/<name>/solution.csv``.

Every figure goes into ``benchmarks/results.json`` (a list of flat records), a
``results.md`` table beside the published reference for the dataset, and a PNG bar chart.
A partial run (some benchmarks, some models) replaces only its own records.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import progress
from ..errors import FoldwiseError
from ..io import artifacts, paths
from ..tasks.metrics import METRICS, score_title, shown_score
from .experiment_log import run_seconds

RESULTS = Path("benchmarks")


@dataclass(frozen=True)
class Reference:
    """A published (or measured-here) figure to put our score beside."""

    system: str
    score: float
    note: str


@dataclass(frozen=True)
class Blend:
    """A blend of a benchmark's models, made by ``foldwise ensemble --method <method>``."""

    members: tuple[str, ...]
    method: str = "fit"


@dataclass(frozen=True)
class Student:
    """A model that learns from a benchmark's finished results (``distill`` from a run,
    ``pseudo_labels`` from a blend's submission): trained and scored after them.

    ``teachers`` are the benchmark's model or blend names that its experiment config reads
    (as ``<benchmark>-<blend>`` submissions or the models' runs).
    """

    experiment: str
    teachers: tuple[str, ...]


@dataclass(frozen=True)
class Benchmark:
    """One auxiliary benchmark: its dataset, how it is split and what it is compared with.

    ``models`` maps the model name of the results (``tfidf``, ``minilm``, ...) to the
    experiment config under ``configs/`` that trains it; ``blends`` maps a blend's name to
    its members (``blend``: TF-IDF + MiniLM) and method (a bare tuple blends by ``fit``);
    ``students`` are trained after the models and blends they learn from; ``held_out`` says
    whether the test labels sit in ``data/<name>/solution.csv`` (scored there) or the score
    is the CV one.
    """

    name: str
    split: str
    held_out: bool
    references: tuple[Reference, ...]
    models: dict[str, str] = field(default_factory=dict)
    existing_runs_only: bool = False  # scored from runs already trained (by `make train`), never trains
    blends: Mapping[str, Blend | tuple[str, ...]] = field(default_factory=lambda: {BLEND: Blend(("tfidf", "minilm"))})
    students: dict[str, Student] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "blends", {name: self.blend(name) for name in self.blends})

    def blend(self, name: str) -> Blend:
        """The members and method of blend ``name`` (a bare tuple of members blends by ``fit``)."""
        spec = self.blends[name]
        return spec if isinstance(spec, Blend) else Blend(tuple(spec))

    def experiment(self, model: str) -> str:
        """The experiment config (and run) name of a model or a student."""
        return self.models[model] if model in self.models else self.students[model].experiment

    def needs(self, wanted: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
        """The models, blends and students that producing ``wanted`` takes, in training order:
        a student's teachers and a blend's members come along."""
        students = [s for s in self.students if s in wanted]
        needed = set(wanted) | {t for s in students for t in self.students[s].teachers}
        blends = [b for b in self.blends if b in needed]
        needed |= {m for b in blends for m in self.blend(b).members}
        return [m for m in self.models if m in needed], blends, students


#: the blend of TF-IDF and MiniLM, recorded under this model name
BLEND = "blend"
#: the decoder LLM with LoRA (configs/*smollm2-lora.yaml), and its blend with TF-IDF + MiniLM
LLM = "smollm2-lora"
LLM_BLEND = "blend+smollm2-lora"
TFIDF_LLM = "tfidf+smollm2-lora"
#: a model trained with several seeds per fold (``seeds: [..]``), its seeds scored alone beside it
SEEDS = "minilm-seeds"
#: the final-points blend methods beside ``fit``: TF-IDF + MiniLM ranked, and stacked
FINAL_POINT_BLENDS = {
    BLEND: Blend(("tfidf", "minilm")),
    f"{BLEND}-rank": Blend(("tfidf", "minilm"), "rank"),
    f"{BLEND}-stack": Blend(("tfidf", "minilm"), "stack"),
}

BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            "ag_news",
            "5-fold CV on the 7,600 rows of AG News' test split (the mirror has no train "
            "split): about 6,100 training rows per fold",
            held_out=False,
            references=(
                Reference("BERT-base, full data", 0.945, "trained on 120k rows: far more data"),
                Reference("TF-IDF, measured here", 0.886, "DESIGN.md, same split"),
                Reference("frozen MiniLM + LR, measured here", 0.880, "DESIGN.md, same split"),
            ),
            models={"tfidf": "ag_news-tfidf", "minilm": "ag_news-minilm"},
        ),
        Benchmark(
            "mnli",
            "train on MNLI dev-matched (9,815 pairs), test on dev-mismatched (9,832; labels held out)",
            held_out=True,
            references=(
                Reference("BERT-base, full data", 0.85, "MNLI-mm; trained on 393k pairs"),
                Reference("frozen MiniLM (u, v, |u-v|, u*v) + LR, measured here", 0.589, "DESIGN.md, same split"),
                Reference("TF-IDF pair features, measured here", 0.488, "DESIGN.md, same split"),
            ),
            models={"tfidf": "mnli-tfidf", "minilm": "mnli-minilm"},
        ),
        Benchmark(
            "movie_genres",
            "a fixed, seeded, multilabel-stratified 15 % of imdb_movies.csv held out (8,424 train / 1,490 test)",
            held_out=True,
            references=(
                Reference("Qwen3-0.6B LoRA (published, cut 0.5)", 0.56, "a similar split"),
                Reference("TF-IDF + global cut, measured here", 0.603, "DESIGN.md, 70/15/15 split"),
            ),
            models={"tfidf": "movie_genres-tfidf", "minilm": "movie_genres-minilm", LLM: "movie_genres-smollm2-lora"},
            blends={BLEND: ("tfidf", "minilm"), LLM_BLEND: ("tfidf", "minilm", LLM)},
        ),
        Benchmark(
            "semeval_ec",
            "5-fold CV on SemEval-2018 E-c train + dev (7,724 tweets)",
            held_out=False,
            references=(
                Reference("SemEval-2018 E-c winner", 0.588, "on the official test set"),
                Reference("TF-IDF + global cut, measured here", 0.5085, "DESIGN.md, same split"),
            ),
            models={"tfidf": "semeval_ec-tfidf", "minilm": "semeval_ec-minilm", SEEDS: "semeval_ec-minilm-seeds"},
            blends=FINAL_POINT_BLENDS,
            students={
                "tfidf-distill": Student("semeval_ec-tfidf-distill", ("minilm",)),
                "tfidf-pseudo": Student("semeval_ec-tfidf-pseudo", (BLEND,)),
            },
        ),
        Benchmark(
            "mnli_entailment",
            "binary entailment-or-not: train on MNLI dev-matched (9,815 pairs), test on "
            "dev-mismatched (9,832; labels held out); F1 of the entailment class",
            held_out=True,
            references=(
                Reference(
                    "everything predicted entailment",
                    0.5209,
                    "F1 of the trivial rule on dev-mismatched (35.2 % entailment)",
                ),
            ),
            models={"tfidf": "mnli_entailment-tfidf"},
            blends={},
        ),
        Benchmark(
            "ag_news_heldout",
            "a fixed, seeded, stratified 15 % of AG News' 7,600 rows held out (6,460 "
            "train / 1,140 test), scored by multi-class log loss (lower is better)",
            held_out=True,
            references=(
                Reference("class priors (the sample submission)", 1.3863, "log loss of predicting 1/4 for every class"),
            ),
            models={"tfidf": "ag_news_heldout-tfidf"},
            blends={},
        ),
        Benchmark(
            "stsb",
            "GLUE STS-B's 5,749 training pairs (the mirror's train.tsv + dev.tsv) with a fixed, seeded 20 % "
            "held out, stratified on score deciles (4,599 train / 1,150 test, scores in data/stsb/solution.csv); "
            "regression of the 0-5 similarity, Pearson (Spearman beside it); not GLUE's dev or test set",
            held_out=True,
            references=(
                Reference("BERT-base fine-tuned (published, GLUE dev)", 0.88, "0.87-0.89 Pearson on GLUE's dev set"),
                Reference(
                    "all-MiniLM-L6-v2 zero-shot cosine (published, Spearman)",
                    0.82,
                    "no training; Spearman on the STS-B test set",
                ),
                Reference(
                    "plain scikit-learn Ridge on TF-IDF of both sentences, measured here",
                    0.3084,
                    "same split; Spearman 0.3059; bench/stsb_ridge.py",
                ),
            ),
            models={"tfidf": "stsb-tfidf", "minilm": "stsb-minilm"},
        ),
        Benchmark(
            "semeval_voc",
            "5-fold CV on SemEval-2018 V-oc's 1,181 English training tweets (valence -3..3, ordinal; "
            "cut points fit on OOF), quadratic weighted kappa (Pearson beside it)",
            held_out=False,
            references=(
                Reference(
                    "SemEval-2018 V-oc official baseline, Pearson on its test set",
                    0.509,
                    "the official test set, not these folds; Pearson, not kappa",
                ),
            ),
            models={"tfidf": "semeval_voc-tfidf", "minilm": "semeval_voc-minilm"},
        ),
        Benchmark(
            "squad",
            "3-fold CV, grouped by article, on a seeded subset of SQuAD v1.1 train (6,067 questions "
            "from 39 whole articles); the 10,570 dev questions held out (every gold answer in "
            "data/squad/solution.csv); F1 and exact match 0-100; TF-IDF cannot extract spans; bert2bert "
            "generates the answer (task generation) on the same rows and folds",
            held_out=True,
            references=(
                Reference(
                    "T5 (the multi-task project), F1", 77.59, "exact match 60.0; all 87,599 train questions, on a GPU"
                ),
            ),
            models={"overlap": "squad-overlap", "minilm": "squad-minilm", "bert2bert": "squad-bert2bert"},
            blends={},
        ),
        Benchmark(
            "squad_small",
            "3-fold CV, grouped by article, on squad's first 15 articles (2,051 questions, a "
            "subset of its train); a seeded 1,000 of the dev questions held out (every gold answer "
            "in data/squad_small/solution.csv); sized for generating answers on a CPU: the "
            "extractive minilm and the generating smollm2-lora answer the same questions",
            held_out=True,
            references=(
                Reference(
                    "T5 (the multi-task project), F1",
                    77.59,
                    "exact match 60.0; all 87,599 train questions and the whole dev set, on a GPU",
                ),
            ),
            models={"overlap": "squad_small-overlap", "minilm": "squad_small-minilm", LLM: "squad_small-smollm2-lora"},
            blends={},
        ),
        Benchmark(
            "xsum",
            "3-fold CV on the mirror's 979 XSum validation articles; its 1,000 test articles held out "
            "(reference summaries in data/xsum/solution.csv); ROUGE-1 F 0-100 with stemming, ROUGE-2 "
            "and ROUGE-L beside it; lead-k: the article's first k sentences",
            held_out=True,
            references=(
                Reference(
                    "Phi-2 + 4-bit LoRA (the multi-task project), ROUGE-1",
                    7.13,
                    "ROUGE-2 0.21, ROUGE-L 6.03; r 16, 1 epoch on 1.5k articles",
                ),
                Reference(
                    "lead-3 on the full XSum test set (published), ROUGE-1", 16.30, "ROUGE-2 1.60, ROUGE-L 11.95"
                ),
            ),
            models={"lead1": "xsum-lead1", "lead3": "xsum-lead3", LLM: "xsum-smollm2-lora"},
            blends={},
        ),
        Benchmark(
            "goemotions",
            "5-fold CV on GoEmotions train + dev (48,836 rows), from the runs `make train` "
            "left (runs/tfidf, runs/minilm, runs/smollm2-lora)",
            held_out=False,
            references=(
                Reference(
                    "MiniLM fine-tuned, official split, measured here",
                    0.522,
                    "DESIGN.md: thresholds on dev, scored on the official test",
                ),
                Reference("GoEmotions paper, BERT-base", 0.46, "official test split"),
            ),
            models={"tfidf": "tfidf", "minilm": "minilm", LLM: "smollm2-lora", SEEDS: "minilm-seeds"},
            existing_runs_only=True,
            blends={
                BLEND: ("tfidf", "minilm"),
                LLM_BLEND: ("tfidf", "minilm", LLM),
                TFIDF_LLM: ("tfidf", LLM),
                f"{TFIDF_LLM}-rank": Blend(("tfidf", LLM), "rank"),
                f"{TFIDF_LLM}-stack": Blend(("tfidf", LLM), "stack"),
            },
            students={
                "tfidf-distill": Student("tfidf-distill-smollm2", (LLM,)),
                "tfidf-pseudo": Student("tfidf-pseudo", (TFIDF_LLM,)),
            },
        ),
    )
}


def foldwise_command(*args: str) -> list[str]:
    """The command line of a foldwise stage, run with this Python."""
    return [sys.executable, "-m", "foldwise.cli", *args]


def shown(command: list[str]) -> str:
    """How a user types the command: ``foldwise ...``."""
    return shlex.join(["foldwise", *command[3:]])


def run_stage(command: list[str]) -> float:
    """Run one stage as a user would; its output goes to ours. Returns the wall seconds."""
    progress.write(f"$ {shown(command)}")
    start = time.perf_counter()
    proc = subprocess.run(command)
    if proc.returncode != 0:
        raise FoldwiseError(f"benchmarks: `{shown(command)}` failed with exit status {proc.returncode}")
    return time.perf_counter() - start


def model_seconds(run_dir: Path) -> float:
    """Fit + predict seconds of a finished run, summed over its folds (stable across re-runs)."""
    return run_seconds(run_dir, artifacts.read_json(run_dir / "run.json")["n_splits"]) or 0.0


def train_command(experiment: str, set_flags: Sequence[str] = ()) -> str:
    """The ``foldwise train`` line that made ``runs/<experiment>``: with the ``--set`` overrides
    its run.json records (a run `make train SET=...` left), else ``set_flags``."""
    info_path = paths.run_dir(experiment) / "run.json"
    source = (artifacts.read_json(info_path).get("config_source") or {}) if info_path.exists() else {}
    overrides = source.get("overrides")
    flags = [arg for override in overrides for arg in ("--set", override)] if overrides else list(set_flags)
    return shlex.join(["foldwise", "train", f"configs/{experiment}.yaml", *flags])


def score_submission(bench: Benchmark, name: str) -> dict[str, Any]:
    """The benchmark's score of ``submissions/<name>.csv`` and its secondary scores.

    Held-out benchmarks are scored against ``data/<name>/solution.csv``, and their test
    probabilities also at the untuned cut (0.5 / argmax) as ``score_untuned``; cross-validated
    ones report the OOF score with cross-fitted decisions (the honest estimate) and keep
    the score with decisions fit on all OOF rows as ``score_tuned_oof``.
    """
    from ..io.submission import submission_record

    csv = paths.submission_csv(name)
    record = submission_record(csv)
    if record is None:
        raise FoldwiseError(f"{csv}: no submission record to score")
    metric = record["metric"]
    # decisions fit on other folds; a rule with nothing to fit (argmax) has no cross-fitted score
    cv = record["cv_score"] if record["cv_score_crossfit"] is None else record["cv_score_crossfit"]
    if bench.held_out:
        from ..data.competition import load_competition
        from ..tasks import competition_task
        from .make_submission import submission_data_config

        cfg = submission_data_config(csv, None)
        data = load_competition(cfg)
        task = competition_task(cfg, data)
        scores = task.score_submission(csv, cfg.path / "solution.csv")
        probs = paths.submission_companion(csv, "probabilities")
        untuned = task.score_untuned(probs, cfg.path / "solution.csv")[metric]
        return {"metric": metric, "score": scores.pop(metric), **scores, "cv_score": cv, "score_untuned": untuned}
    return {
        "metric": metric,
        "score": cv,
        **{name: value for name, value in record["metrics"]["tuned"].items() if name in PAIRED_SCORES},
        "score_tuned_oof": record["cv_score"],
        "score_untuned": record["cv_score_untuned"],
    }


def run_benchmark(
    bench: Benchmark, models: list[str], folds: str | None = None, overrides: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Data, folds, train, ensemble and score one benchmark; its result records.

    The models (and what the wanted blends and students need) are trained, ensembled alone
    and blended, and scored; then each student, which learns from those results. With
    ``folds`` ("0,1") only the models' folds are trained and nothing is scored yet (the
    results need every fold); the records list is then empty. ``overrides`` ("KEY=VALUE")
    go to every ``foldwise train`` as ``--set`` and into the records' commands.
    """
    trained, blends, students = bench.needs(models)
    if not trained and not students:
        progress.write(f"{bench.name}: none of {', '.join(models)} is a model of this benchmark; skipped")
        return []
    if bench.existing_runs_only:
        if overrides:
            raise FoldwiseError(
                f"benchmarks: {bench.name} scores the runs `make train` left; pass SET= to `make train` instead"
            )
        return _score_existing_runs(bench, trained, blends, students) if not folds else []
    run_stage(foldwise_command("data", bench.name))
    run_stage(foldwise_command("folds", bench.name))
    fold_flag = ["--folds", folds] if folds else []
    set_flags = [arg for override in overrides for arg in ("--set", override)]
    for model in trained:
        _train(bench, model, set_flags, fold_flag)
    if folds:
        progress.write(f"{bench.name}: folds {folds} trained; results are scored once every fold is")
        return []
    records = _ensemble_and_score(bench, trained, blends, set_flags)
    for student in students:
        _train(bench, student, set_flags)
        records += _student_records(bench, student, records, set_flags)
    return records


def _train(bench: Benchmark, model: str, set_flags: list[str], fold_flag: Sequence[str] = ()) -> None:
    """``foldwise train`` of a model or student; --resume: a run cut off mid-fold goes on from
    its last epoch checkpoint."""
    run_stage(foldwise_command("train", f"configs/{bench.experiment(model)}.yaml", *set_flags, *fold_flag, "--resume"))


def _score_existing_runs(
    bench: Benchmark, trained: list[str], blends: list[str], students: list[str]
) -> list[dict[str, Any]]:
    """Ensemble and score the models and students whose finished runs are there; say which are missing."""
    present = [m for m in trained + students if (paths.run_dir(bench.experiment(m)) / "run.json").exists()]
    for m in sorted(set(trained + students) - set(present)):
        progress.write(
            f"{bench.name}: runs/{bench.experiment(m)}/ not found; `make train EXPS={bench.experiment(m)}` "
            "adds it to the results"
        )
    models = [m for m in trained if m in present]
    records = _ensemble_and_score(bench, models, blends) if models else []
    for student in [s for s in students if s in present]:
        records += _student_records(bench, student, records)
    return records


def _student_records(
    bench: Benchmark, student: str, records: list[dict], set_flags: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """A trained student's record, its command preceded by its teachers' (as they were scored)."""
    own = _ensemble_and_score(bench, [student], [], set_flags)
    teachers = [r for r in records if r["model"] in bench.students[student].teachers]
    lines = [line for r in [*teachers, *own] for line in r["command"].split(" && ")]
    for record in own:
        record["command"] = " && ".join(dict.fromkeys(lines))  # shared members trained once
        record["teachers"] = ", ".join(bench.students[student].teachers)
    return own


def _ensemble_and_score(
    bench: Benchmark, trained: list[str], blends: list[str], set_flags: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Ensemble each trained model alone, and the blends of them, and score every submission."""
    wall = {m: model_seconds(paths.run_dir(bench.experiment(m))) for m in trained}
    records = []
    submissions: dict[str, tuple[list[str], list[str]]] = {m: ([m], []) for m in trained}
    for blend in blends:
        spec = bench.blend(blend)
        if set(spec.members) <= set(trained):
            submissions[blend] = (list(spec.members), [] if spec.method == "fit" else ["--method", spec.method])
    for model, (members, method) in submissions.items():
        name = f"{bench.name}-{model}"
        command = foldwise_command("ensemble", *[bench.experiment(m) for m in members], *method, "--name", name)
        seconds = run_stage(command)
        scores = score_submission(bench, name)
        train_lines = [train_command(bench.experiment(m), set_flags) for m in members]
        records.append(
            {
                "benchmark": bench.name,
                "model": model,
                "metric": scores.pop("metric"),
                "score": round(scores.pop("score"), 4),
                "split": bench.split,
                "wall_s": round(sum(wall[m] for m in members) + seconds, 1),
                "command": " && ".join([*train_lines, shown(command)]),
                **{k: round(v, 4) for k, v in scores.items() if isinstance(v, float)},
                **_seed_scores(bench.experiment(model) if model in wall else None),
            }
        )
    return records


def _seed_scores(experiment: str | None) -> dict[str, Any]:
    """A multi-seed run's seeds scored alone (``runs/<exp>/seeds.json``): their mean and the gain."""
    path = paths.run_dir(experiment) / "seeds.json" if experiment else None
    if path is None or not path.exists():
        return {}
    seeds = artifacts.read_json(path)
    return {
        "single_seed_mean": round(seeds["mean_single_seed"], 4),
        "seed_gain": round(seeds["gain_over_mean_seed"], 4),
    }


def merge_records(old: list[dict], new: list[dict]) -> list[dict]:
    """``old`` with every (benchmark, model) of ``new`` replaced by the new record in its place;
    a model new to a benchmark goes after that benchmark's last record (the end for a new one)."""
    fresh = {(r["benchmark"], r["model"]): r for r in new}
    merged = [fresh.pop((r["benchmark"], r["model"]), r) for r in old]
    for record in fresh.values():
        same = [i for i, r in enumerate(merged) if r["benchmark"] == record["benchmark"]]
        merged.insert(same[-1] + 1 if same else len(merged), record)
    return merged


def _cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell: a literal ``|`` would end the cell."""
    return text.replace("|", "\\|")


def _untuned_cell(record: dict) -> str:
    """The score without fitted decisions, or blank for a record written before it was kept."""
    value = record.get("score_untuned")
    return f"{value:.4f}" if isinstance(value, (int, float)) else ""


#: secondary scores shown beside the score, as the literature pairs them (SQuAD F1 / EM, ROUGE-1/2/L,
#: Pearson / Spearman, QWK / Pearson)
PAIRED_SCORES = ("exact_match", "rouge2", "rougeL", "spearman", "pearson")


def _secondary_cell(record: dict) -> str:
    """Exact match beside a SQuAD F1, ROUGE-2 and ROUGE-L beside a ROUGE-1, Spearman beside a Pearson,
    Pearson beside a QWK; a multi-seed run's
    single seeds; a student's teachers."""
    shown = [
        f"{score_title(key)} {shown_score(key, record[key])}"
        for key in PAIRED_SCORES
        if isinstance(record.get(key), (int, float))
    ]
    if isinstance(record.get("single_seed_mean"), (int, float)):
        shown.append(f"one seed {record['single_seed_mean']:.4f} on average, {record['seed_gain']:+.4f} from averaging")
    if record.get("teachers"):
        shown.append(f"learns from {record['teachers']}")
    return f" ({', '.join(shown)})" if shown else ""


def _oof_cell(record: dict, bench: Benchmark) -> str:
    """A held-out benchmark's cross-validated OOF score beside its held-out one (can the
    validation be trusted?); blank where the score is the OOF score itself."""
    value = record.get("cv_score")
    return f"{value:.4f}" if bench.held_out and isinstance(value, (int, float)) else ""


def results_markdown(records: list[dict]) -> str:
    """``results.md``: per benchmark, our scores beside the references, with split and command."""
    lines = [
        "# Benchmarks",
        "",
        "Written by `make benchmarks` (`foldwise benchmarks`); every figure is in `results.json`.",
        "Scores on the 0-1 scale (SQuAD's F1 and exact match, and ROUGE, 0-100 as published). CV benchmarks",
        "report OOF scores with cross-fitted decisions",
        "(each fold decided by cuts fit on the other folds: the honest estimate). 'untuned' is the",
        "same predictions at a 0.5 cut per label (argmax for one label per row); for log loss, the",
        "probabilities before calibration; for numbers, the raw predictions (ordinal scores: rounded).",
        "",
    ]
    for name, bench in BENCHMARKS.items():
        rows = [r for r in records if r["benchmark"] == name]
        if not rows:
            continue
        lines += [
            f"## {name}",
            "",
            f"Split: {bench.split}.",
            "",
            "| model | metric | score | untuned | OOF (held-out benchmarks) | wall (s) | command |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r['model']} | {r['metric']} | **{r['score']:.4f}**{_secondary_cell(r)} | {_untuned_cell(r)} "
            f"| {_oof_cell(r, bench)} | {r['wall_s']:.0f} | `{_cell(r['command'])}` |"
            for r in rows
        ]
        lines += ["", "| reference | score | note |", "| --- | --- | --- |"]
        lines += [f"| {_cell(ref.system)} | {ref.score:.3f} | {_cell(ref.note)} |" for ref in bench.references]
        lines.append("")
    return "\n".join(lines)


def plot_results(records: list[dict], path: Path) -> None:
    """One panel per benchmark: our models' scores as bars, the references as dashed lines."""
    from ..io.plots import pyplot, save_figure

    names = [n for n in BENCHMARKS if any(r["benchmark"] == n for r in records)]
    if not names:
        return
    plt = pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes.flat, names):
        rows = [r for r in records if r["benchmark"] == name]
        bars = ax.bar([r["model"] for r in rows], [r["score"] for r in rows], color="#2f6db5")
        ax.bar_label(bars, fmt="%.3f", fontsize=6, padding=2)
        ax.tick_params(axis="x", labelrotation=25, labelsize=7)  # long names (blend+smollm2-lora) stay apart
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
        for ref, colour in zip(BENCHMARKS[name].references, ("#d1495b", "#3a9d5d", "#999999")):
            ax.axhline(ref.score, ls="--", lw=1, color=colour, label=f"{ref.system} {ref.score:.3f}")
        metric = rows[0]["metric"]
        lower = metric in METRICS and not METRICS[metric].greater_is_better
        ax.set_title(f"{name} ({metric}{', lower is better' if lower else ''})", fontsize=9)
        top = max([1.0, *(r["score"] for r in rows), *(ref.score for ref in BENCHMARKS[name].references)])
        ax.set_ylim(0, top * 1.05)  # a loss (log loss of the class priors: 1.386) may pass 1
        if BENCHMARKS[name].references:
            ax.legend(fontsize=6, loc="lower right")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def write_results(new: list[dict], folder: Path = RESULTS) -> list[dict]:
    """Merge ``new`` into ``folder/results.json`` and rewrite ``results.md`` and ``results.png``."""
    path = folder / "results.json"
    records = merge_records(artifacts.read_json(path) if path.exists() else [], new)
    artifacts.write_json(path, records)
    artifacts.write_text(folder / "results.md", results_markdown(records))
    plot_results(records, folder / "results.png")
    return records


def parse_list(spec: str | None, known: list[str], what: str) -> list[str]:
    """``"a,b"`` -> ["a", "b"], each checked against ``known``; None or "" -> all of them; a
    spec naming nothing (``","``) is refused."""
    if not spec:
        return list(known)
    chosen = [part.strip() for part in spec.split(",") if part.strip()]
    if not chosen:  # "," or " ": a selection of nothing would run nothing and exit 0
        raise FoldwiseError(f"benchmarks: '{spec}' names no {what} (known: {', '.join(known)})")
    bad = [c for c in chosen if c not in known]
    if bad:
        raise FoldwiseError(f"benchmarks: unknown {what} '{bad[0]}' (known: {', '.join(known)})")
    return chosen


def run_benchmarks(
    benchmarks: str | None = None, models: str | None = None, folds: str | None = None, overrides: Sequence[str] = ()
) -> list[dict]:
    """Run the chosen benchmarks (default all) and models (default all + blend); write results.

    ``overrides`` ("model.precision=bf16") are passed to every training run as ``--set``.
    """
    chosen = parse_list(benchmarks, list(BENCHMARKS), "benchmark")
    all_models = (
        sorted({m for b in BENCHMARKS.values() for m in b.models})
        + sorted({m for b in BENCHMARKS.values() for m in b.blends})
        + sorted({m for b in BENCHMARKS.values() for m in b.students})
    )
    wanted = parse_list(models, all_models, "model")
    new: list[dict] = []
    for name in chosen:
        new += run_benchmark(BENCHMARKS[name], wanted, folds, list(overrides))
        if new:
            write_results(new)
    return new
