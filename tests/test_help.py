"""Help and docs say what the code does: `config --keys` per model kind, `foldwise --help`,
and README's tables of shipped configs."""

from __future__ import annotations

from foldwise.cli import main


def listed_keys(capsys, *args: str) -> list[str]:
    """The keys `foldwise config --keys ...` prints, in order."""
    assert main(["config", "--keys", *args]) == 0
    return [line.split()[0] for line in capsys.readouterr().out.splitlines()]


def test_config_keys_follow_the_model_kind(capsys):
    every = listed_keys(capsys)
    assert every.count("model.kind") == 3  # every kind's keys, each group opened by its kind
    assert {"model.C", "model.name_or_path", "model.lora_r"} <= set(every) and "model" not in every
    for args in (["--kind", "transformer"], ["--set", "model.kind=transformer"]):
        keys = listed_keys(capsys, *args)
        assert "model.name_or_path" in keys and "model.C" not in keys and "data.metric" in keys
    assert "model.C" in listed_keys(capsys, "--kind", "tfidf")


def test_config_keys_refuse_an_unknown_kind(capsys):
    assert main(["config", "--keys", "--kind", "bert"]) == 2
    assert "--kind: unknown model.kind 'bert' (known: llm, tfidf, transformer)" in capsys.readouterr().err
