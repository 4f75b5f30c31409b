"""`make benchmarks`: records merged per (benchmark, model), tables and chart written, bad switches refused."""

import json

import pytest

from foldwise import benchmarks
from foldwise.errors import FoldwiseError


def record(bench: str, model: str, score: float) -> dict:
    return {"benchmark": bench, "model": model, "metric": "accuracy", "score": score,
            "split": "5-fold CV", "wall_s": 12.0, "command": f"foldwise ensemble {bench}-{model}"}


def test_a_partial_run_replaces_only_its_own_records(tmp_path):
    benchmarks.write_results([record("ag_news", "tfidf", 0.88), record("ag_news", "minilm", 0.90),
                              record("semeval_ec", "tfidf", 0.52)], tmp_path)
    merged = benchmarks.write_results([record("ag_news", "tfidf", 0.89)], tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved == merged and len(saved) == 3
    assert {(r["benchmark"], r["model"]): r["score"] for r in saved} == {
        ("ag_news", "tfidf"): 0.89, ("ag_news", "minilm"): 0.90, ("semeval_ec", "tfidf"): 0.52}
    for r in saved:  # the flat record the issue asks for
        assert {"benchmark", "model", "metric", "score", "split", "wall_s", "command"} <= set(r)


def test_markdown_puts_each_score_beside_the_published_references(tmp_path):
    benchmarks.write_results([record("ag_news", "minilm", 0.9012)], tmp_path)
    text = (tmp_path / "results.md").read_text()
    assert "## ag_news" in text and "**0.9012**" in text and "Split: 5-fold CV on the 7,600 rows" in text
    assert "BERT-base, full data | 0.945" in text and "## mnli" not in text
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("kwargs, message", [
    ({"benchmarks": "ag_news,imdb"}, "unknown benchmark 'imdb'"),
    ({"models": "tfidf,bert"}, "unknown model 'bert'"),
])
def test_unknown_switch_values_are_one_line(kwargs, message, in_tmp):
    with pytest.raises(FoldwiseError, match=message) as info:
        benchmarks.run_benchmarks(**kwargs)
    assert "\n" not in str(info.value)
    assert not (in_tmp / "benchmarks").exists() and not (in_tmp / "data").exists()


def test_every_benchmark_names_a_config_for_each_model():
    from conftest import REPO

    for bench in benchmarks.BENCHMARKS.values():
        assert (REPO / "configs" / "data" / f"{bench.name}.yaml").exists()
        assert set(bench.models) == {"tfidf", "minilm"}
        for config in bench.models.values():
            assert (REPO / "configs" / f"{config}.yaml").exists(), config
