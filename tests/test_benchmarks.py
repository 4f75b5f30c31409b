"""`make benchmarks`: records merged per (benchmark, model), tables and chart written, bad switches refused."""

import json
import sys
import time

import pytest
from conftest import NEWS_DATA, TINY_TFIDF, cli_env, foldwise_cli, titled_competition, write_configs

from foldwise.errors import FoldwiseError
from foldwise.stages import benchmarks


def record(bench: str, model: str, score: float) -> dict:
    return {
        "benchmark": bench,
        "model": model,
        "metric": "accuracy",
        "score": score,
        "split": "5-fold CV",
        "wall_s": 12.0,
        "command": f"foldwise ensemble {bench}-{model}",
    }


def test_a_partial_run_replaces_only_its_own_records(tmp_path):
    benchmarks.write_results(
        [record("ag_news", "tfidf", 0.88), record("ag_news", "minilm", 0.90), record("semeval_ec", "tfidf", 0.52)],
        tmp_path,
    )
    merged = benchmarks.write_results([record("ag_news", "tfidf", 0.89)], tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved == merged and len(saved) == 3
    assert {(r["benchmark"], r["model"]): r["score"] for r in saved} == {
        ("ag_news", "tfidf"): 0.89,
        ("ag_news", "minilm"): 0.90,
        ("semeval_ec", "tfidf"): 0.52,
    }
    for r in saved:  # the flat record the issue asks for
        assert {"benchmark", "model", "metric", "score", "split", "wall_s", "command"} <= set(r)
    merged = benchmarks.write_results(
        [record("ag_news", "blend", 0.91), record("ag_news", "minilm", 0.91), record("mnli", "tfidf", 0.58)], tmp_path
    )
    assert [(r["benchmark"], r["model"]) for r in merged] == [  # replaced in place, new ones by their benchmark
        ("ag_news", "tfidf"),
        ("ag_news", "minilm"),
        ("ag_news", "blend"),
        ("semeval_ec", "tfidf"),
        ("mnli", "tfidf"),
    ]


def test_markdown_puts_each_score_beside_the_published_references(tmp_path):
    benchmarks.write_results([record("ag_news", "minilm", 0.9012)], tmp_path)
    text = (tmp_path / "results.md").read_text()
    assert "## ag_news" in text and "**0.9012**" in text and "Split: 5-fold CV on the 7,600 rows" in text
    assert "BERT-base, full data | 0.945" in text and "## mnli" not in text
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_a_held_out_score_shows_its_oof_score_beside_it(tmp_path):
    held, cv = record("squad", "minilm", 65.64), record("ag_news", "tfidf", 0.88)
    held["cv_score"], cv["cv_score"] = 55.16, 0.87
    benchmarks.write_results([held, cv], tmp_path)
    lines = (tmp_path / "results.md").read_text().splitlines()
    squad = next(line for line in lines if line.startswith("| minilm | accuracy | **65.6400**"))
    assert "| 55.1600 |" in squad
    ag_news = next(line for line in lines if line.startswith("| tfidf |"))
    assert "0.8700" not in ag_news  # a CV benchmark's score is its OOF score already


def test_a_pipe_in_a_cell_does_not_split_the_table_row(tmp_path):
    benchmarks.write_results([record("mnli", "minilm", 0.69)], tmp_path)
    lines = (tmp_path / "results.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| reference |"))
    refs = lines[lines.index(header) + 2 :]
    frozen = next(line for line in refs if "frozen MiniLM" in line)
    assert "(u, v, \\|u-v\\|, u*v)" in frozen
    assert frozen.replace("\\|", "").count("|") == header.count("|")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"benchmarks": "ag_news,imdb"}, "unknown benchmark 'imdb'"),
        ({"models": "tfidf,bert"}, "unknown model 'bert'"),
    ],
)
def test_unknown_switch_values_are_one_line(kwargs, message, in_tmp):
    with pytest.raises(FoldwiseError, match=message) as info:
        benchmarks.run_benchmarks(**kwargs)
    assert "\n" not in str(info.value)
    assert not (in_tmp / "benchmarks").exists() and not (in_tmp / "data").exists()


def test_every_benchmark_names_a_config_for_each_model():
    from conftest import REPO

    for bench in benchmarks.BENCHMARKS.values():
        assert (REPO / "configs" / "data" / f"{bench.name}.yaml").exists()
        # span and generation tasks: a baseline that needs no model, no TF-IDF
        assert {"tfidf", "overlap", "lead3"} & set(bench.models)
        if "minilm" in bench.models and "tfidf" in bench.models:  # TF-IDF-only ones prove a competition shape
            assert bench.blends[benchmarks.BLEND].members == ("tfidf", "minilm")
        for blend in bench.blends.values():
            assert set(blend.members) <= set(bench.models) and blend.method in ("fit", "mean", "rank", "stack")
        for student in bench.students.values():
            assert set(student.teachers) <= set(bench.models) | set(bench.blends)
        for config in [*bench.models.values(), *(s.experiment for s in bench.students.values())]:
            assert (REPO / "configs" / f"{config}.yaml").exists(), config


def test_students_learn_from_the_results_scored_before_them(monkeypatch):
    """Distillation / pseudo-label students train after their teachers' runs and blends exist;
    blend methods reach `ensemble`; a student's record names the commands that made its teachers."""
    commands = []
    monkeypatch.setattr(benchmarks, "run_stage", lambda command: commands.append(command[3:]) or 1.0)
    monkeypatch.setattr(benchmarks, "model_seconds", lambda run_dir: 10.0)
    monkeypatch.setattr(benchmarks, "score_submission", lambda bench, name: {"metric": "jaccard", "score": 0.5})
    bench = benchmarks.Benchmark(
        "emo",
        "CV",
        held_out=False,
        references=(),
        models={"tfidf": "emo-tfidf", "minilm": "emo-minilm"},
        blends={"blend": ("tfidf", "minilm"), "blend-stack": benchmarks.Blend(("tfidf", "minilm"), "stack")},
        students={"pseudo": benchmarks.Student("emo-pseudo", ("blend",))},
    )
    records = benchmarks.run_benchmark(bench, ["pseudo", "blend-stack"])
    trained = [c[1] for c in commands if c[0] == "train"]
    assert trained == ["configs/emo-tfidf.yaml", "configs/emo-minilm.yaml", "configs/emo-pseudo.yaml"]
    ensembles = [c[1:] for c in commands if c[0] == "ensemble"]
    assert ["emo-tfidf", "emo-minilm", "--name", "emo-blend"] in ensembles
    assert ["emo-tfidf", "emo-minilm", "--method", "stack", "--name", "emo-blend-stack"] in ensembles
    assert commands.index(["train", "configs/emo-pseudo.yaml", "--resume"]) > commands.index(
        ["ensemble", "emo-tfidf", "emo-minilm", "--name", "emo-blend"]
    )  # its teacher's submission exists first
    assert [r["model"] for r in records] == ["tfidf", "minilm", "blend", "blend-stack", "pseudo"]
    pseudo = records[-1]
    assert pseudo["command"] == (
        "foldwise train configs/emo-tfidf.yaml && foldwise train configs/emo-minilm.yaml && "
        "foldwise ensemble emo-tfidf emo-minilm --name emo-blend && "
        "foldwise train configs/emo-pseudo.yaml && foldwise ensemble emo-pseudo --name emo-pseudo"
    )
    assert pseudo["teachers"] == "blend" and pseudo["wall_s"] == 11.0
    monkeypatch.setattr(benchmarks, "BENCHMARKS", {"emo": bench})
    seeded = {**records[0], "model": "minilm-seeds", "single_seed_mean": 0.49, "seed_gain": 0.01}
    table = benchmarks.results_markdown([*records, seeded])
    assert "(learns from blend)" in table and "(one seed 0.4900 on average, +0.0100 from averaging)" in table


def stage_in_this_process(command: list[str]) -> float:
    """``benchmarks.run_stage`` without a process per stage: the same stage through the same
    command line, in this process (run_stage itself is tested on its own below); its wall seconds."""
    start = time.perf_counter()
    foldwise_cli(*command[3:])
    return time.perf_counter() - start


def test_a_stage_is_a_process_of_its_own_and_its_failure_is_one_line(in_tmp, monkeypatch, capfd):
    for key, value in cli_env().items():
        monkeypatch.setenv(key, value)
    assert benchmarks.foldwise_command("folds", "nope")[:3] == [sys.executable, "-m", "foldwise.cli"]
    assert benchmarks.run_stage(benchmarks.foldwise_command("config", "--keys", "--kind", "tfidf")) > 0
    assert "$ foldwise config --keys --kind tfidf" in capfd.readouterr().out
    with pytest.raises(FoldwiseError, match=r"^benchmarks: `foldwise folds nope` failed with exit status 2$"):
        benchmarks.run_stage(benchmarks.foldwise_command("folds", "nope"))
    assert "error: " in capfd.readouterr().err  # the stage's own message reaches ours


def test_benchmarks_run_the_stages_and_score_cv_and_held_out(in_tmp, monkeypatch):
    """Two toy benchmarks through data, folds, train, ensemble and score, as `make benchmarks` runs them."""
    import os

    import numpy as np
    import pandas as pd

    monkeypatch.setattr(benchmarks, "run_stage", stage_in_this_process)
    titled_competition(in_tmp / "data" / "news")  # single-label, scored by CV accuracy
    titled_competition(in_tmp / "data" / "tags", multilabel=True)  # held out: scored on solution.csv
    truth = pd.DataFrame(
        {
            "id": [f"q{i}" for i in range(12)],
            **{n: [int(i % 3 == j) for i in range(12)] for j, n in enumerate(["sports", "business", "tech"])},
        }
    )
    truth.to_csv(in_tmp / "data" / "tags" / "solution.csv", index=False)
    write_configs(
        in_tmp,
        {
            "news": "name: news\n" + NEWS_DATA,
            "tags": "name: tags\nmetric: micro_f1\ntext_columns: [title, body]\n"
            "label_column: genres\nfolds: {n_splits: 3, seed: 0}\n",
        },
        {},
    )
    for data in ("news", "tags"):
        for model, extra in (("words", "char_ngram_range: []"), ("chars", "word_ngram_range: []")):
            (in_tmp / "configs" / f"{data}-{model}.yaml").write_text(
                f"data: {data}\nmodel: {{kind: tfidf, word_min_df: 1, char_min_df: 1, n_jobs: 1, {extra}}}\n"
            )
    toy = {
        name: benchmarks.Benchmark(
            name,
            f"{name} split",
            held_out=(name == "tags"),
            references=(benchmarks.Reference("a reference", 0.5, "note"),),
            models={"words": f"{name}-words", "chars": f"{name}-chars"},
            blends={"blend": ("words", "chars")},
        )
        for name in ("news", "tags")
    }
    monkeypatch.setattr(benchmarks, "BENCHMARKS", toy)

    records = benchmarks.run_benchmarks()
    assert [(r["benchmark"], r["model"]) for r in records] == [
        (b, m) for b in ("news", "tags") for m in ("words", "chars", "blend")
    ]
    by = {(r["benchmark"], r["model"]): r for r in records}
    news = json.loads((in_tmp / "submissions" / "news-words.json").read_text())
    assert by["news", "words"]["metric"] == "accuracy"
    assert news["cv_score_crossfit"] is None  # argmax: nothing fit on OOF, so the OOF score is honest as it is
    assert by["news", "words"]["score"] == round(news["cv_score"], 4)
    sub = pd.read_csv(in_tmp / "submissions" / "tags-blend.csv")
    decided, y = sub[["sports", "business", "tech"]].to_numpy(), truth[["sports", "business", "tech"]].to_numpy()
    tp, fp, fn = (decided & y).sum(), (decided & (1 - y)).sum(), ((1 - decided) & y).sum()
    assert by["tags", "blend"]["score"] == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-4)
    # the same test probabilities at a 0.5 cut, rows matched to the solution by id
    probs = pd.read_csv(in_tmp / "submissions" / "tags-blend.probs.csv").set_index("id").loc[truth["id"]]
    at_half = (probs[["sports", "business", "tech"]].to_numpy() >= 0.5).astype(int)
    tp, fp, fn = (at_half & y).sum(), (at_half & (1 - y)).sum(), ((1 - at_half) & y).sum()
    assert by["tags", "blend"]["score_untuned"] == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-4)
    assert "| untuned |" in (in_tmp / "benchmarks" / "results.md").read_text()
    assert all(r["wall_s"] > 0 and r["command"].startswith("foldwise train") for r in records)
    saved = json.loads((in_tmp / "benchmarks" / "results.json").read_text())
    assert len(saved) == 6 and (in_tmp / "benchmarks" / "results.md").exists()
    assert np.isfinite([r["score"] for r in saved]).all() and os.path.exists(in_tmp / "benchmarks" / "results.png")


def test_existing_runs_are_scored_without_training(in_tmp, monkeypatch, capsys):
    """GoEmotions-style: only runs `make train` left are ensembled and scored; a missing one is named."""
    monkeypatch.setattr(benchmarks, "run_stage", stage_in_this_process)
    titled_competition(in_tmp / "data" / "news")
    write_configs(in_tmp, {"news": "name: news\n" + NEWS_DATA}, {"words": "data: news\n" + TINY_TFIDF})
    for args in (["folds", "news"], ["train", "configs/words.yaml", "--set", "model.word_min_df=2"]):
        foldwise_cli(*args)
    monkeypatch.setattr(
        benchmarks,
        "BENCHMARKS",
        {
            "news": benchmarks.Benchmark(
                "news",
                "3-fold CV",
                held_out=False,
                references=(),
                models={"words": "words", "chars": "chars"},
                existing_runs_only=True,
            )
        },
    )
    train_log = (in_tmp / "runs" / "words" / "run.json").stat().st_mtime

    records = benchmarks.run_benchmarks()
    assert [(r["benchmark"], r["model"]) for r in records] == [("news", "words")]
    assert records[0]["command"].startswith("foldwise train configs/words.yaml --set model.word_min_df=2 && ")
    assert "runs/chars/ not found" in capsys.readouterr().out
    assert (in_tmp / "runs" / "words" / "run.json").stat().st_mtime == train_log  # nothing retrained
    assert not (in_tmp / "runs" / "chars").exists()


def test_benchmark_training_resumes_a_fold_cut_off_mid_way(monkeypatch):
    """Hours-long benchmark runs are often cut off: each train stage continues from its checkpoint."""
    commands = []
    monkeypatch.setattr(benchmarks, "run_stage", lambda command: commands.append(command) or 0.0)
    bench = benchmarks.Benchmark("news", "3-fold CV", held_out=False, references=(), models={"words": "news-words"})
    assert benchmarks.run_benchmark(bench, ["words"], folds="0") == []
    train = [c for c in commands if "train" in c]
    assert len(train) == 1 and train[0][-4:] == ["configs/news-words.yaml", "--folds", "0", "--resume"]


def test_set_overrides_reach_every_training_run_and_its_record(monkeypatch):
    """``make benchmarks SET=...``: each train stage gets the --set flags, and so does the record's command."""
    commands = []
    monkeypatch.setattr(benchmarks, "run_stage", lambda command: commands.append(command) or 0.0)
    monkeypatch.setattr(benchmarks, "model_seconds", lambda run_dir: 1.0)
    monkeypatch.setattr(benchmarks, "score_submission", lambda bench, name: {"metric": "accuracy", "score": 0.5})
    bench = benchmarks.Benchmark(
        "news", "3-fold CV", held_out=False, references=(), models={"words": "news-words"}, blends={}
    )
    records = benchmarks.run_benchmark(bench, ["words"], overrides=["model.precision=bf16"])
    train = [c for c in commands if "train" in c]
    assert train[0][-4:] == ["configs/news-words.yaml", "--set", "model.precision=bf16", "--resume"]
    assert records[0]["command"].startswith("foldwise train configs/news-words.yaml --set model.precision=bf16 && ")
    runs_only = benchmarks.Benchmark(
        "emo", "CV", held_out=False, references=(), models={"words": "news-words"}, existing_runs_only=True, blends={}
    )
    with pytest.raises(FoldwiseError, match="pass SET= to `make train` instead"):
        benchmarks.run_benchmark(runs_only, ["words"], overrides=["model.precision=bf16"])
