"""Help and docs say what the code does: `config --keys` per model kind, `foldwise --help`,
and the docs' tables of shipped configs (docs/models/transformer.md, docs/models/llm.md)."""

from __future__ import annotations

import re

import pytest
from conftest import REPO, doc_text

from foldwise.cli import build_parser, main
from foldwise.config import read_yaml


def listed_keys(capsys, *args: str) -> list[str]:
    """The keys `foldwise config --keys ...` prints, in order."""
    assert main(["config", "--keys", *args]) == 0
    return [line.split()[0] for line in capsys.readouterr().out.splitlines()]


def test_config_keys_follow_the_model_kind(capsys):
    every = listed_keys(capsys)
    assert every.count("model.kind") == 6  # every kind's keys (tfidf, transformer, llm, overlap, seq2seq, lead),
    # each opened by its kind
    assert {"model.C", "model.name_or_path", "model.lora_r"} <= set(every) and "model" not in every
    for args in (["--kind", "transformer"], ["--set", "model.kind=transformer"]):
        keys = listed_keys(capsys, *args)
        assert "model.name_or_path" in keys and "model.C" not in keys and "data.metric" in keys
    assert "model.C" in listed_keys(capsys, "--kind", "tfidf")


def test_config_help_of_data_metric_lists_exactly_the_registered_metrics(capsys):
    from foldwise.tasks.metrics import METRICS

    assert main(["config", "--keys"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("data.metric "))
    listed = {}
    for group in line.split("the competition metric: ", 1)[1].split("; "):
        names, tasks = re.fullmatch(r"(.+) \((.+)\)", group).groups()
        listed.update(dict.fromkeys(names.split(", "), tuple(tasks.split(", "))))
    assert listed == {name: metric.tasks for name, metric in METRICS.items()}


def test_config_keys_refuse_an_unknown_kind(capsys):
    assert main(["config", "--keys", "--kind", "bert"]) == 2
    assert (
        "--kind: unknown model.kind 'bert' (known: lead, llm, overlap, seq2seq, tfidf, transformer)"
        in capsys.readouterr().err
    )


#: the docs' wording of a recipe setting -> the model key it names
RECIPE_SETTINGS = {
    r"(\d+) epochs?\b": "epochs",
    r"\blr ([\d.e-]+)": "lr",
    r"/ ([\d.e-]+) head\b": "head_lr",
    r"\bbatch (\d+)": "batch_size",
    r"max length (\d+)": "max_length",
    r"\br (\d+)\b": "lora_r",
    r"alpha (\d+)": "lora_alpha",
    r"([\d,]+) rows per fold": "max_rows_per_fold",
}


def doc_recipes() -> dict[str, str]:
    """config file -> its row of the docs' tables of ready-made recipes (README or docs/)."""
    rows = re.findall(r"^\| `([\w.-]+\.yaml)` \| (.+) \|$", doc_text(), re.MULTILINE)
    return {name: text for name, text in rows if (REPO / "configs" / name).exists()}


def test_the_docs_recipe_tables_match_the_config_files():
    recipes = doc_recipes()
    assert {"minilm.yaml", "smollm2-lora.yaml", "gemma2-9b-qlora.yaml"} <= set(recipes)
    for name, text in recipes.items():
        model = read_yaml(REPO / "configs" / name)["model"]
        for pattern, key in RECIPE_SETTINGS.items():
            for said in re.findall(pattern, text):
                assert float(said.replace(",", "")) == float(model[key]), f"docs on {name}: {key} {said}"


def test_help_opens_with_a_usage_summary_the_stages_in_order_and_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    first = "Cross-validated Kaggle text competitions: classification, span extraction, generation."
    assert out.split("\n\n")[1].startswith(first)
    assert "dispatches" not in out and "logic lives" not in out  # the developers' module docstring stays out
    stages = [out.index(f"\n    {stage} ") for stage in ("data", "folds", "train", "ensemble", "validate", "submit")]
    assert stages == sorted(stages)
    examples = [
        line.split("#")[0].split()[1:]
        for line in out.split("example")[1].splitlines()
        if line.strip().startswith("foldwise ") and "--help" not in line
    ]
    assert [e[0] for e in examples][:4] == ["data", "folds", "train", "ensemble"]
    for args in examples:  # every example is a command line the parser takes as it is
        build_parser().parse_args(args)
