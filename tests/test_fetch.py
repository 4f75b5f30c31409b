import pandas as pd
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Sequence, Value

from foldwise.config import DataConfig
from foldwise.data.fetch import fetch, go_emotions_to_kaggle
from foldwise.errors import FoldwiseError

NAMES = ["admiration", "joy", "neutral"]


def hub_like() -> DatasetDict:
    """A tiny DatasetDict with the hub's go_emotions/simplified schema."""
    features = Features({"text": Value("string"), "labels": Sequence(ClassLabel(names=NAMES)), "id": Value("string")})

    def split(prefix, labels):
        return Dataset.from_dict(
            {
                "text": [f"{prefix} text {i}" for i in range(len(labels))],
                "labels": labels,
                "id": [f"{prefix}{i}" for i in range(len(labels))],
            },
            features=features,
        )

    return DatasetDict(
        train=split("tr", [[0], [1, 2]]), validation=split("va", [[2]]), test=split("te", [[1], [0], [0, 1]])
    )


def test_converter_builds_kaggle_layout():
    frames = go_emotions_to_kaggle(hub_like())
    train, test, sample = frames["train"], frames["test"], frames["sample_submission"]
    assert list(train.columns) == ["id", "text", *NAMES]
    assert train["id"].tolist() == ["tr0", "tr1", "va0"]  # train + validation
    assert train[NAMES].to_numpy().tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert list(test.columns) == ["id", "text"] and len(test) == 3  # labels withheld
    assert list(sample.columns) == ["id", *NAMES] and sample[NAMES].to_numpy().sum() == 0
    assert sample["id"].tolist() == test["id"].tolist()


def test_fetch_uses_hub_converter_without_mirror(in_tmp, monkeypatch):
    from foldwise.data.converters import CONVERTERS, Converter

    monkeypatch.setitem(CONVERTERS, "fake", Converter(from_hub=lambda: go_emotions_to_kaggle(hub_like())))
    cfg = DataConfig(name="ge", mirror_dir=str(in_tmp / "absent"), hub_dataset="fake")
    folder, how = fetch(cfg)
    assert how.startswith("built from the hub")
    assert pd.read_csv(folder / "train.csv").shape == (3, 5)
    assert fetch(cfg)[1] == "present"


def test_fetch_copies_mirror(in_tmp, toy_competition):
    cfg = DataConfig(name="copy", mirror_dir=str(toy_competition))
    folder, how = fetch(cfg)
    assert how == f"copied from {toy_competition}"
    assert (folder / "train.csv").read_bytes() == (toy_competition / "train.csv").read_bytes()


def test_fetch_without_source_says_where_files_go(in_tmp):
    with pytest.raises(FoldwiseError, match="data/nothing: put train.csv, test.csv, sample_submission.csv here"):
        fetch(DataConfig(name="nothing"))


@pytest.mark.parametrize(
    "error",
    [ConnectionError("Couldn't reach 'x' on the Hub\ndetails"), OSError("[Errno -2] Name or service not known")],
)
def test_fetch_without_network_is_one_line_naming_the_dataset(in_tmp, monkeypatch, error):
    from foldwise.data import fetch as fetch_module

    def offline():
        raise error

    monkeypatch.setitem(fetch_module.CONVERTERS, "offline", fetch_module.Converter(from_hub=offline))
    with pytest.raises(FoldwiseError) as caught:
        fetch(DataConfig(name="ge", hub_dataset="offline"))
    message = str(caught.value)
    assert "\n" not in message and "dataset 'ge'" in message and type(error).__name__ in message
    assert "mirror_dir" in message and "data/ge/" in message
    assert not (in_tmp / "data" / "ge").exists()
