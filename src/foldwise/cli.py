"""``foldwise`` command line: parses arguments and dispatches; the logic lives elsewhere."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import FoldwiseError
from .redact import mask_secrets

#: what `foldwise --help` says first (the module docstring above is for developers)
SUMMARY = """\
Cross-validated Kaggle text competitions: classification, span extraction, generation.
Run the stages in order: each one reads the files the one before wrote (data/, folds/,
runs/, submissions/)."""
EXAMPLE = """\
example (the default job; `make folds train ensemble` runs the same):
  foldwise data configs/tfidf.yaml        # data/goemotions/
  foldwise folds configs/tfidf.yaml       # folds/goemotions.csv
  foldwise train configs/tfidf.yaml       # runs/tfidf/
  foldwise ensemble tfidf                 # submissions/tfidf.csv, validated
  foldwise submit tfidf --dry-run

`foldwise <command> --help` lists a command's options; README.md and docs/ have the rest."""


def cmd_data(args: argparse.Namespace) -> None:
    from .data.fetch import fetch
    from .experiment import load_dataset_configs

    for cfg in load_dataset_configs(args.data, args.set):
        folder, how = fetch(cfg, force=args.force)
        print(f"{folder}: {how}")


def cmd_init(args: argparse.Namespace) -> None:
    from .stages.init_competition import init_competition

    path, _ = init_competition(args.slug, archive=args.archive, force=args.force)
    print(path.read_text(encoding="utf-8"), end="")
    print(f"{path}: written; check the 'unsure' lines, then `foldwise folds {args.slug}`")


def cmd_runs(args: argparse.Namespace) -> None:
    from .stages import experiment_log as log

    problems: list[str] = []
    entries = [e for e in log.collect(problems=problems) if args.dataset is None or e.dataset == args.dataset]
    for problem in problems:  # the listing goes on without what could not be read
        print(f"warning: {problem}", file=sys.stderr)
    if not entries:
        print("no runs or submissions yet (runs/, submissions/)")
        return
    print(log.format_table(log.sort_entries(entries, args.sort)))


def cmd_lb(args: argparse.Namespace) -> None:
    from .stages.leaderboard import pull_from_kaggle, record_by_hand

    if args.pull == (args.submission is not None):
        raise FoldwiseError("lb: give a submission and its score, or --pull (scores from the kaggle CLI)")
    if args.submission is not None and args.score is None:
        raise FoldwiseError(
            f"lb: the leaderboard score of {args.submission} is missing: foldwise lb {args.submission} <score>"
        )
    lines = pull_from_kaggle(args.competition) if args.pull else record_by_hand(args.submission, args.score)
    print("\n".join(lines))


def cmd_package(args: argparse.Namespace) -> None:
    from .stages.package import build_package, upload

    folder, size = build_package(args.submission, args.out)
    files = sum(1 for f in folder.rglob("*") if f.is_file())
    print(
        f"{folder}: {files} files, {size / 2**20:.1f} MiB; `python {folder}/predict.py --test <test.csv> "
        f"--sample <sample_submission.csv>` re-makes submissions/{args.submission}.csv"
    )
    if args.upload:
        uploaded, command = upload(folder, args.message or f"foldwise package {args.submission}")
        print(f"uploaded: {command}" if uploaded else f"kaggle CLI not set up; to upload: {command}")


def cmd_remote(args: argparse.Namespace) -> None:
    from .experiment import load_experiment
    from .io.kaggle import kaggle_configured
    from .stages import remote

    cfg = load_experiment(args.experiment, args.set)
    folds = [int(k) for k in args.folds.split(",")] if args.folds else None
    folders = remote.kernel_folders(cfg, folds)
    for folder in folders:
        size = (folder / "run.py").stat().st_size
        print(f"{folder}: kernel {remote.kernel_id(folder)} (run.py {size / 1024:.0f} KiB)")
    if args.output:
        copied = remote.pull(folders[0], cfg.name, output=Path(args.output))
        print(f"runs/{cfg.name}/: {len(copied)} files from {args.output}")
        return
    if args.build_only or not kaggle_configured():
        why = "" if args.build_only else "the kaggle CLI is not set up; "
        print(
            f"{why}push each with `kaggle kernels push -p <folder>`, then, when it is done, "
            f"`kaggle kernels output <id> -p out` and `foldwise remote kaggle {args.experiment} --output out`"
        )
        return
    for folder in folders:
        if not args.pull:
            state = remote.push_and_wait(folder, poll_seconds=args.poll)
            if state != "complete":
                raise FoldwiseError(f"kernel {remote.kernel_id(folder)} ended {state}: its log is on its Kaggle page")
        print(f"runs/{cfg.name}/: {len(remote.pull(folder, cfg.name))} files from {remote.kernel_id(folder)}")
    if cfg.remote.per_fold:
        print(f"then `foldwise train {args.experiment}` assembles the pulled folds into the run")


def cmd_folds(args: argparse.Namespace) -> None:
    from .data.competition import load_competition
    from .data.folds import write_folds
    from .experiment import load_dataset_configs
    from .tasks import competition_task
    from .tasks.report import short_name

    for cfg in load_dataset_configs(args.data, args.set):
        data = load_competition(cfg)
        print(data.task_line)
        strata = competition_task(cfg, data).stratify_on(data)
        path, table, written = write_folds(
            cfg, data.train_ids, strata.key, strata.names, force=args.force, task=data.task, method=strata.method
        )
        print(table.rename(index=short_name).to_string())
        print(
            f"{path}: {'written' if written else 'already there with the same settings (no change)'}"
            f" ({cfg.folds.n_splits} folds, seed {cfg.folds.seed}, {len(data.train_ids)} rows)"
        )


def cmd_train(args: argparse.Namespace) -> None:
    from .experiment import load_experiment
    from .io import paths
    from .stages.cv import run_cv
    from .tasks.report import headline

    if args.name is not None and len(args.experiments) != 1:
        raise FoldwiseError("train: --name gives one experiment a new name; pass one experiment YAML")
    overrides = args.set + ([f"name={args.name}"] if args.name is not None else [])
    configs = [load_experiment(experiment, overrides) for experiment in args.experiments]  # all valid first
    _refuse_shared_runs(args.experiments, configs)
    for experiment, cfg in zip(args.experiments, configs):
        print(f"{experiment} -> {paths.run_dir(cfg.name)}/", flush=True)
    for cfg in configs:
        result = run_cv(cfg, folds=args.folds, force=args.force, resume=args.resume)
        if result.evaluation is not None:
            print(f"{cfg.name}: {headline(result.evaluation)} -> {result.run_dir}/")


def _refuse_shared_runs(experiments: list[str], configs: list) -> None:
    """Two experiments that resolve to one name would overwrite each other's ``runs/<name>/``."""
    from .io import paths

    first: dict[str, str] = {}
    for experiment, cfg in zip(experiments, configs):
        if cfg.name in first:
            raise FoldwiseError(
                f"train: {first[cfg.name]} and {experiment} would both train "
                f"{paths.run_dir(cfg.name)}/; give a new name to one experiment at a time"
            )
        first[cfg.name] = experiment


def cmd_ensemble(args: argparse.Namespace) -> None:
    from .stages.make_submission import ensemble
    from .stages.runs import run_folder
    from .tasks.ensemble import blend_line
    from .tasks.report import headline

    print(f"blending {', '.join(f'{run_folder(e)}/' for e in args.experiments)}", flush=True)
    name = args.name or "+".join(Path(e).name for e in args.experiments)
    flags = {"mode": args.threshold_mode, "at_least_one": args.at_least_one, "class_bias": args.class_bias}
    result = ensemble(
        [str(e) for e in args.experiments],
        name,
        method=args.method,
        threshold_overrides={key: value for key, value in flags.items() if value is not None},
    )
    r = result.record
    print(blend_line(r))
    print(headline(result.evaluation))
    print(result.task_line)
    print(result.format_line)
    print(
        f"{result.csv}: written and validated against {r['sample_submission']} "
        f"(test predictions before decisions: {r['probabilities']})"
    )


def _submission_task(csv: Path, data: str | None):
    """The task a submission is checked and scored with: its dataset (``--data`` or its record)."""
    from .data.competition import load_competition
    from .stages.make_submission import submission_data_config
    from .tasks import competition_task

    cfg = submission_data_config(csv, data)
    competition = load_competition(cfg)
    return competition_task(cfg, competition)


def cmd_validate(args: argparse.Namespace) -> None:
    from .io.submission import submission_record
    from .io.tables import read_csv
    from .tasks.classification.submission import validate_submission

    csv = Path(args.csv)
    submission_record(csv)  # a record that does not describe this CSV is refused
    if args.sample:
        sample_path = Path(args.sample)
        sub = validate_submission(csv, read_csv(sample_path), args.id_column)
        print(f"{csv}: valid ({len(sub)} rows, columns as in {sample_path})")
        return
    task = _submission_task(csv, args.data)
    sub = task.validate_submission(csv)
    print(f"{csv}: valid ({len(sub)} rows, columns as in {task.sample_path}, ids in its order); {task.format_line}")


def cmd_benchmarks(args: argparse.Namespace) -> None:
    from .stages.benchmarks import RESULTS, run_benchmarks

    records = run_benchmarks(args.bench, args.models, args.folds, args.set)
    for r in records:
        print(f"{r['benchmark']:<13} {r['model']:<8} {r['metric']:<9} {r['score']:.4f}  ({r['wall_s']:.0f} s)")
    if records:
        print(f"{RESULTS}/results.json, results.md, results.png: written")


def cmd_score(args: argparse.Namespace) -> None:
    from .tasks.metrics import score_title

    csv = Path(args.csv)
    task = _submission_task(csv, args.data)
    scores = task.score_submission(csv, Path(args.solution))
    line = ", ".join(f"{score_title(name)} {value:.4f}" for name, value in scores.items())
    print(f"{csv}: {line} (against {args.solution}, metric {task.metric.name})")


def cmd_submit(args: argparse.Namespace) -> None:
    from .io import paths
    from .io.kaggle import submit
    from .io.submission import submission_record
    from .stages.make_submission import submission_data_config

    csv = Path(args.submission)
    if csv.suffix != ".csv":
        csv = paths.submission_csv(args.submission)
    if not csv.exists():
        raise FoldwiseError(f"{csv}: submission not found (run `make ensemble` first)")
    record = submission_record(csv) or {}
    if args.competition:
        competition = args.competition
    else:
        cfg = submission_data_config(csv, args.data)
        competition = cfg.kaggle_competition
        if not competition:
            raise FoldwiseError(
                f"no competition slug for dataset '{cfg.name}': pass --competition "
                "or set kaggle_competition in its data config"
            )
    message = args.message or (_record_message(csv, record) if record else csv.stem)
    uploaded, line = submit(csv, competition, message, dry_run=args.dry_run)
    if uploaded:
        print(f"uploaded: {line}")
    else:
        print("kaggle CLI not installed or not configured (~/.kaggle/kaggle.json); run:")
        print(line)


def _record_message(csv: Path, record: dict) -> str:
    """``"blend: CV jaccard 0.5812 (tfidf+minilm)"`` from a submission's record."""
    from .io.paths import submission_companion
    from .tasks.metrics import score_title

    missing = [key for key in ("metric", "cv_score", "members") if key not in record]
    if missing:
        raise FoldwiseError(
            f"{submission_companion(csv, 'record')}: no {', '.join(map(repr, missing))}; make the "
            "submission again (`foldwise ensemble`), or pass --message"
        )
    metric, score = record["metric"], record["cv_score"]
    return f"{csv.stem}: CV {score_title(metric)} {score:.4f} ({'+'.join(record['members'])})"


def cmd_predict(args: argparse.Namespace) -> None:
    import json

    from .stages.predict import format_predictions, gather_inputs, predict_rows

    if len(args.question) != len(args.context):
        raise FoldwiseError(
            f"predict: {len(args.question)} --question for {len(args.context)} --context; give them in pairs"
        )
    pairs = args.pair + [[q, c] for q, c in zip(args.question, args.context)]
    texts = gather_inputs(args.run, args.texts, pairs, args.file, args.text_column, args.pair_columns)
    task, preds, decided = predict_rows(args.run, texts)
    records = format_predictions(texts, task, preds, decided, top=args.top)
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    for record in records:
        print("\n".join(task.prediction_lines(record)))


def cmd_tune(args: argparse.Namespace) -> None:
    import os

    if args.gpu is not None:  # pin this worker to one GPU before torch initialises CUDA
        os.environ["CUDA_VISIBLE_DEVICES"] = str(args.gpu)
    from .stages.tuning import experiment_metric, finished_count, run_study, trials_table

    study = run_study(
        args.experiment,
        trials=args.trials,
        timeout=args.timeout,
        storage=args.storage,
        overrides=args.set,
        heartbeat=args.heartbeat,
        grace=args.grace,
    )
    metric = experiment_metric(args.experiment, args.set)
    print(trials_table(study, top=5, metric=metric))
    print(
        f"{finished_count(study)}/{args.trials} trials finished; best CV {metric.title} "
        f"{metric.from_objective(study.best_value):.4f}"
    )


def cmd_study(args: argparse.Namespace) -> None:
    from .io.artifacts import write_json
    from .io.paths import study_dir
    from .stages.tuning import (
        experiment_metric,
        load_study,
        save_study_plots,
        study_summary,
        trials_table,
        write_tuned_config,
    )

    study = load_study(args.experiment, storage=args.storage, overrides=args.set)
    metric = experiment_metric(args.experiment, args.set)
    print(trials_table(study, top=args.top, metric=metric))
    summary = study_summary(args.experiment, study, args.set)
    if summary["current_config"]:
        start, best = summary["current_config"]["cv_score"], summary["best"]["cv_score"]
        print(
            f"current config (trial {summary['current_config']['trial']}) {start:.4f} -> "
            f"best (trial {summary['best']['trial']}) {best:.4f} CV {metric.title} ({best - start:+.4f})"
        )
    tuned = write_tuned_config(args.experiment, study)
    folder = study_dir(study.study_name)
    write_json(folder / "study.json", summary)
    plots = save_study_plots(study, folder)
    print(f"{tuned}: best parameters (train it with `foldwise train {tuned}`)")
    for written in [folder / "study.json", *plots]:
        print(f"{written}: written")


def cmd_config(args: argparse.Namespace) -> None:
    from .config import to_yaml
    from .experiment import experiment_keys, keys_kinds, load_experiment

    if args.kind and not args.keys:
        raise FoldwiseError("config: --kind goes with --keys (foldwise config --keys --kind transformer)")
    if args.keys:
        if args.experiment and not args.kind:
            kinds = [load_experiment(args.experiment, args.set).model.kind]
        else:
            kinds = keys_kinds(args.set, args.kind)
        for key, default, text in experiment_keys(kinds):
            print(f"{key:<34} {default:<22} {text}")
        return
    if not args.experiment:
        raise FoldwiseError("config: name an experiment YAML (or pass --keys)")
    print(to_yaml(load_experiment(args.experiment, args.set)), end="")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="foldwise", description=SUMMARY, epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="<command>", title="commands (the stages in order, then the tools)"
    )

    def with_set(p: argparse.ArgumentParser, example: str = "model.C=2") -> argparse.ArgumentParser:
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=f"override a config key, e.g. --set {example} (repeatable)",
        )
        return p

    datasets_help = (
        "dataset names, data config YAMLs, or experiment YAMLs (their data: section); "
        "--set keys are data keys, e.g. folds.n_splits=10"
    )
    p = sub.add_parser(
        "init", help="start a competition: its files into data/<slug>/, configs/data/<slug>.yaml guessed from them"
    )
    p.add_argument("slug", help="the competition's slug (kaggle.com/competitions/<slug>)")
    p.add_argument(
        "--archive",
        help="a zip of the competition's files (default: data/<slug>/*.zip, else the kaggle CLI's download)",
    )
    p.add_argument("--force", action="store_true", help="guess again over an existing configs/data/<slug>.yaml")
    p.set_defaults(func=cmd_init)

    p = with_set(sub.add_parser("data", help="get the competition files into data/<name>/"), "task=binary")
    p.add_argument("data", nargs="+", help=datasets_help)
    p.add_argument("--force", action="store_true", help="fetch again even if the files are there")
    p.set_defaults(func=cmd_data)

    p = with_set(sub.add_parser("folds", help="write folds/<dataset>.csv once"), "folds.n_splits=10 (data keys)")
    p.add_argument("data", nargs="+", help=datasets_help)
    p.add_argument("--force", action="store_true", help="rewrite the folds even if settings differ")
    p.set_defaults(func=cmd_folds)

    p = with_set(sub.add_parser("train", help="cross-validate experiments into runs/<exp>/"))
    p.add_argument("experiments", nargs="+", help="experiment YAML files")
    p.add_argument("--name", help="train one experiment under a new name: runs/<name>/ (same as --set name=...)")
    p.add_argument("--folds", help="train only these folds, e.g. 0,1")
    p.add_argument("--force", action="store_true", help="retrain folds that are already done")
    p.add_argument("--resume", action="store_true", help="continue an interrupted fold from its last epoch checkpoint")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("ensemble", help="blend runs and write submissions/<name>.csv")
    p.add_argument("experiments", nargs="+", help="run names under runs/")
    p.add_argument("--name", help="submission name (default: members joined with +)")
    p.add_argument(
        "--method",
        choices=["fit", "mean", "rank", "stack"],
        default="fit",
        help="fit: weights fit on the OOF competition metric after decisions (default); mean: equal "
        "weights; rank: fit on rank-normalised members; stack: a cross-validated level-2 "
        "logistic regression",
    )
    p.add_argument(
        "--threshold-mode",
        choices=["auto", "per_class", "global", "fixed"],
        default=None,
        help="auto: the metric's own search (default: the experiment config's thresholds.mode)",
    )
    p.add_argument(
        "--at-least-one",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="give every row at least one label (default: kept if it raises the OOF metric, never for macro-F1)",
    )
    p.add_argument(
        "--class-bias",
        action="store_true",
        default=None,
        help="multiclass: fit a per-class bias on OOF (kept only if it raises the metric)",
    )
    p.set_defaults(func=cmd_ensemble)

    p = sub.add_parser("validate", help="check a submission CSV against sample_submission.csv")
    p.add_argument("csv")
    p.add_argument(
        "--data",
        help="dataset name or config whose sample submission to use "
        "(default: the dataset recorded in the submission's .json)",
    )
    p.add_argument("--sample", help="sample submission CSV (instead of --data)")
    p.add_argument("--id-column", default="id", help="id column with --sample")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("submit", help="upload a submission with the kaggle CLI (or print the command)")
    p.add_argument("submission", help="submission name or CSV path")
    p.add_argument(
        "--data",
        help="dataset name or config holding kaggle_competition "
        "(default: the dataset recorded in the submission's .json)",
    )
    p.add_argument("--competition", help="competition slug (overrides the data config)")
    p.add_argument("--message", help="submission message (default: name and CV score)")
    p.add_argument("--dry-run", action="store_true", help="print the command, upload nothing")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("score", help="score a submission against a solution file (held-out labels)")
    p.add_argument("csv", help="submission CSV")
    p.add_argument(
        "--solution",
        required=True,
        help="CSV of ids and true labels, laid out like the sample (e.g. data/mnli/solution.csv)",
    )
    p.add_argument("--data", help="dataset name or config (default: the dataset recorded in the submission's .json)")
    p.set_defaults(func=cmd_score)

    p = with_set(
        sub.add_parser("benchmarks", help="run the auxiliary benchmarks and write benchmarks/results.*"),
        "model.precision=bf16",
    )
    p.add_argument("--bench", help="comma-separated benchmarks (default: all), e.g. ag_news,mnli")
    p.add_argument("--models", help="comma-separated models (default: every model and their blend)")
    p.add_argument("--folds", help="train only these folds, e.g. 0,1 (scored once every fold is trained)")
    p.set_defaults(func=cmd_benchmarks)

    p = sub.add_parser("predict", help="label texts with a run's saved fold models and thresholds")
    p.add_argument("run", help="run folder (runs/<exp>) or experiment name")
    p.add_argument("texts", nargs="*", help="texts to label")
    p.add_argument("--file", help="CSV with texts to label")
    p.add_argument(
        "--text-column",
        default=None,
        help="text column of --file (default: the run's data.text_columns, joined as in training)",
    )
    p.add_argument(
        "--pair",
        nargs=2,
        action="append",
        default=[],
        metavar=("FIRST", "SECOND"),
        help="a sentence pair to label (repeatable), for runs trained with data.text_pair",
    )
    p.add_argument(
        "--pair-columns",
        nargs=2,
        metavar=("FIRST", "SECOND"),
        help="the pair's columns in --file (default: the run's data.text_pair)",
    )
    p.add_argument(
        "--question",
        action="append",
        default=[],
        help="task span: a question (repeatable, each with a --context) to answer from its context",
    )
    p.add_argument("--context", action="append", default=[], help="task span: the text holding the answer")
    p.add_argument("--top", type=int, default=5, help="probabilities to show per text")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "package",
        help="a Kaggle-dataset folder that re-makes a submission offline (code "
        "competitions): fold models (trained again where a run did not keep them), "
        "configs, weights, predict.py",
    )
    p.add_argument("submission", help="the submission's name (submissions/<name>.csv, made by ensemble)")
    p.add_argument(
        "--out",
        help="the folder to write (default packages/<submission>/): a new or empty one, or an "
        "earlier bundle of this submission",
    )
    p.add_argument("--upload", action="store_true", help="then `kaggle datasets create` (or `version`) it")
    p.add_argument("-m", "--message", help="with --upload: the dataset version's message")
    p.set_defaults(func=cmd_package)

    p = with_set(
        sub.add_parser("remote", help="train an experiment in Kaggle kernels (free GPUs) and pull runs/<exp>/ back"),
        "remote.gpu=false",
    )
    p.add_argument("where", choices=["kaggle"], help="where to train (kaggle)")
    p.add_argument("experiment", help="an experiment YAML")
    p.add_argument("--folds", help="train only these folds, e.g. 0,1 (remote.per_fold: one kernel each)")
    p.add_argument(
        "--build-only", action="store_true", help="write remote/<exp>/ (run.py, kernel-metadata.json), push nothing"
    )
    p.add_argument("--pull", action="store_true", help="only pull the finished kernels' runs/<exp>/")
    p.add_argument("--output", help="copy runs/<exp>/ from this kernel output folder (downloaded by hand)")
    p.add_argument("--poll", type=float, default=60.0, help="seconds between status checks (60)")
    p.set_defaults(func=cmd_remote)

    p = sub.add_parser(
        "runs", help="the experiment log: every run and submission with its CV, LB, config hash, wall time and date"
    )
    p.add_argument(
        "--sort",
        default="date",
        choices=("date", "score", "wall", "name"),
        help="newest first (default), best CV first per dataset, slowest first, or by name",
    )
    p.add_argument("--dataset", help="only this dataset's runs and submissions")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser(
        "lb",
        help="record a submission's leaderboard score (or --pull them with the kaggle CLI) "
        "and draw submissions/cv_vs_lb.png",
    )
    p.add_argument("submission", nargs="?", help="the submission's name (submissions/<name>.csv)")
    p.add_argument("score", nargs="?", type=float, help="its public leaderboard score")
    p.add_argument(
        "--pull",
        action="store_true",
        help="read your scored submissions with `kaggle competitions submissions` and match them by file name",
    )
    p.add_argument("--competition", help="with --pull: the slug (default: each submission's data config's)")
    p.set_defaults(func=cmd_lb)

    p = with_set(sub.add_parser("tune", help="run or join the experiment's Optuna study"))
    p.add_argument("experiment", help="experiment YAML (its tune: section holds the search space)")
    p.add_argument("--trials", type=int, default=30, help="total finished trials the study should reach")
    p.add_argument("--timeout", type=float, help="stop this worker after this many seconds")
    p.add_argument(
        "--storage",
        help="sqlite:///..., postgresql://..., or journal:path.log (default "
        "$FOLDWISE_STORAGE, else sqlite:///studies/<dataset>-<exp>.db)",
    )
    p.add_argument("--gpu", type=int, help="pin this worker to one GPU (sets CUDA_VISIBLE_DEVICES)")
    p.add_argument("--heartbeat", type=int, default=30, help="seconds between worker heartbeats")
    p.add_argument(
        "--grace",
        type=int,
        default=90,
        help="seconds without a heartbeat before a running trial counts as failed and is retried",
    )
    p.set_defaults(func=cmd_tune)

    p = with_set(sub.add_parser("study", help="best trials, configs/<exp>.tuned.yaml and PNG plots"))
    p.add_argument("experiment", help="experiment YAML")
    p.add_argument("--storage", help="the study's storage URL (default: $FOLDWISE_STORAGE, else its sqlite file)")
    p.add_argument("--top", type=int, default=10, help="trials to list")
    p.set_defaults(func=cmd_study)

    p = with_set(sub.add_parser("config", help="print an experiment's resolved config"))
    p.add_argument("experiment", nargs="?")
    p.add_argument(
        "--keys",
        action="store_true",
        help="list every config key with its default and help "
        "(model keys: the experiment's kind, --set model.kind=..., or every kind)",
    )
    p.add_argument(
        "--kind",
        help="with --keys: list the model keys of this kind (tfidf, transformer, llm, seq2seq, ...; default all)",
    )
    p.set_defaults(func=cmd_config)
    return parser


def masked_excepthook(kind: type[BaseException], value: BaseException, tb) -> None:
    """``sys.excepthook`` of the command line: an unexpected error's traceback, with URL
    passwords masked (a database driver's message may quote the storage URL)."""
    import traceback

    sys.stderr.write(mask_secrets("".join(traceback.format_exception(kind, value, tb))))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``foldwise`` console script."""
    sys.excepthook = masked_excepthook
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except FoldwiseError as exc:
        print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished folds are kept, partial files were not written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
