"""``foldwise init``: data configs guessed from zips laid out like real Kaggle competitions, and bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import TINY_TFIDF, foldwise_cli

from foldwise.cli import main
from foldwise.data.competition import load_competition
from foldwise.errors import FoldwiseError
from foldwise.experiment import load_dataset_config
from foldwise.stages.init_competition import init_competition
from foldwise.tasks import competition_task

WORDS = "the a market goal chip film storm rain vote court science river music price".split()


def sentences(rng: np.random.Generator, n: int, extra: str = "") -> list[str]:
    return [" ".join(rng.choice(WORDS, size=6)) + f" {extra} {i}".rstrip() for i in range(n)]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def write_zip(path: Path, files: dict[str, bytes], nested: bool = False) -> Path:
    """A competition zip; ``nested``: each CSV zipped on its own inside it, as Kaggle ships large ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            if nested:
                inner = io.BytesIO()
                with zipfile.ZipFile(inner, "w") as iz:
                    iz.writestr(name, data)
                zf.writestr(name + ".zip", inner.getvalue())
            else:
                zf.writestr(name, data)
    return path


def research_articles(rng) -> dict[str, bytes]:
    """Janatahack topic modelling: ID, TITLE, ABSTRACT, six 0/1 subject columns; an oddly named sample."""
    subjects = [
        "Computer Science",
        "Physics",
        "Mathematics",
        "Statistics",
        "Quantitative Biology",
        "Quantitative Finance",
    ]
    n, m = 60, 12
    labels = (rng.random((n, len(subjects))) < 0.3).astype(int)
    labels[labels.sum(axis=1) == 0, 0] = 1
    labels[0, :2] = 1  # a row with two subjects: multi-label
    train = pd.DataFrame(
        {"ID": range(1, n + 1), "TITLE": sentences(rng, n, "title"), "ABSTRACT": sentences(rng, n, "we study")}
    )
    train[subjects] = labels
    test = pd.DataFrame(
        {"ID": range(n + 1, n + m + 1), "TITLE": sentences(rng, m, "title"), "ABSTRACT": sentences(rng, m, "we study")}
    )
    sample = pd.DataFrame({"ID": test["ID"], **{s: 0 for s in subjects}})
    return {
        "train.csv": csv_bytes(train),
        "test.csv": csv_bytes(test),
        "sample_submission_UVKGLZE.csv": csv_bytes(sample),
    }


def bbc_news(rng) -> dict[str, bytes]:
    """BBC News classification: a class-name column, file names with spaces."""
    classes = ["business", "tech", "politics", "sport", "entertainment"]
    n, m = 50, 10
    train = pd.DataFrame(
        {"ArticleId": range(n), "Text": sentences(rng, n), "Category": [classes[i % 5] for i in range(n)]}
    )
    test = pd.DataFrame({"ArticleId": range(n, n + m), "Text": sentences(rng, m)})
    sample = pd.DataFrame({"ArticleId": test["ArticleId"], "Category": "sport"})
    return {
        "BBC News Train.csv": csv_bytes(train),
        "BBC News Test.csv": csv_bytes(test),
        "BBC News Sample Solution.csv": csv_bytes(sample),
    }


def jigsaw_toxic(rng) -> dict[str, bytes]:
    """Jigsaw toxic comments: six 0/1 columns in train, a sample of 0.5 probabilities."""
    labels = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    n, m = 60, 12
    train = pd.DataFrame({"id": [f"{i:016x}" for i in range(n)], "comment_text": sentences(rng, n, "comment")})
    train[labels] = (rng.random((n, 6)) < 0.2).astype(int)
    test = pd.DataFrame({"id": [f"{i:016x}" for i in range(n, n + m)], "comment_text": sentences(rng, m)})
    sample = pd.DataFrame({"id": test["id"], **{label: 0.5 for label in labels}})
    return {"train.csv": csv_bytes(train), "test.csv": csv_bytes(test), "sample_submission.csv": csv_bytes(sample)}


def spooky_authors(rng) -> dict[str, bytes]:
    """Spooky author identification: train names the author, the sample wants one probability per author."""
    n, m = 45, 9
    train = pd.DataFrame(
        {
            "id": [f"id{i:05d}" for i in range(n)],
            "text": sentences(rng, n),
            "author": [("EAP", "HPL", "MWS")[i % 3] for i in range(n)],
        }
    )
    test = pd.DataFrame({"id": [f"id{i:05d}" for i in range(n, n + m)], "text": sentences(rng, m)})
    sample = pd.DataFrame({"id": test["id"], "EAP": 0.403494, "HPL": 0.287808, "MWS": 0.308698})
    return {
        "train.zip/train.csv": csv_bytes(train),
        "test.csv": csv_bytes(test),
        "sample_submission.csv": csv_bytes(sample),
    }


def tweet_spans(rng) -> dict[str, bytes]:
    """Tweet Sentiment Extraction: the target is a piece of the tweet, the sentiment a short column."""
    n, m = 60, 12
    texts = sentences(rng, n + m)
    train = pd.DataFrame(
        {
            "textID": [f"{i:010x}" for i in range(n)],
            "text": texts[:n],
            "selected_text": [" ".join(t.split()[1:3]) for t in texts[:n]],
            "sentiment": [("positive", "negative", "neutral")[i % 3] for i in range(n)],
        }
    )
    test = pd.DataFrame(
        {
            "textID": [f"{i:010x}" for i in range(n, n + m)],
            "text": texts[n:],
            "sentiment": [("positive", "negative", "neutral")[i % 3] for i in range(m)],
        }
    )
    sample = pd.DataFrame({"textID": test["textID"], "selected_text": ""})
    return {"train.csv": csv_bytes(train), "test.csv": csv_bytes(test), "sample_submission.csv": csv_bytes(sample)}


def disaster_tweets(rng) -> dict[str, bytes]:
    """NLP getting started: keyword and location beside the text, one 0/1 target."""
    n, m = 60, 12
    train = pd.DataFrame(
        {
            "id": range(n),
            "keyword": [("fire", "flood", "")[i % 3] for i in range(n)],
            "location": [("USA", "")[i % 2] for i in range(n)],
            "text": sentences(rng, n),
            "target": [i % 2 for i in range(n)],
        }
    )
    test = train.iloc[:m].drop(columns="target").assign(id=range(n, n + m), text=sentences(rng, m, "new"))
    sample = pd.DataFrame({"id": test["id"], "target": 0})
    return {"train.csv": csv_bytes(train), "test.csv": csv_bytes(test), "sample_submission.csv": csv_bytes(sample)}


def quora_pairs(rng, short_first: bool = False) -> dict[str, bytes]:
    """Quora Question Pairs: train's 'id' (and qid1, qid2) beside test's 'test_id', two questions of
    one kind, and a sample filled with 1 for a competition scored by log loss. ``short_first``:
    question1 holds 3 words and question2 18, so the two columns are no longer of one kind."""
    n, m = 60, 12
    first, second = sentences(rng, n + m, "?"), sentences(rng, n + m, "?")
    if short_first:  # 3 words against 18
        first = [" ".join(q.split()[:2]) + f" {i}" for i, q in enumerate(first)]
        second = [f"{q} {q}" for q in second]
    train = pd.DataFrame(
        {
            "id": range(n),
            "qid1": range(1, 2 * n, 2),
            "qid2": range(2, 2 * n + 1, 2),
            "question1": first[:n],
            "question2": second[:n],
            "is_duplicate": [i % 2 for i in range(n)],
        }
    )
    test = pd.DataFrame({"test_id": range(m), "question1": first[n:], "question2": second[n:]})
    sample = pd.DataFrame({"test_id": test["test_id"], "is_duplicate": 1})
    return {"train.csv": csv_bytes(train), "test.csv": csv_bytes(test), "sample_submission.csv": csv_bytes(sample)}


def commonlit_readability(rng) -> dict[str, bytes]:
    """CommonLit Readability: an excerpt, a float target and its standard error (train only), url_legal
    and license mostly empty; the sample is ``id,target`` of 0.0."""
    n, m = 60, 12
    ids = [f"{i:09x}" for i in rng.integers(0, 16**9, n + m)]
    blank = {"url_legal": "", "license": ""}
    train = pd.DataFrame({"id": ids[:n], **blank, "excerpt": sentences(rng, n)})
    train["target"] = rng.normal(-1, 1, n).round(9)
    train["standard_error"] = rng.uniform(0.45, 0.5, n).round(9)
    test = pd.DataFrame({"id": ids[n:], **blank, "excerpt": sentences(rng, m)})
    sample = pd.DataFrame({"id": test["id"], "target": 0.0})
    return {"train.csv": csv_bytes(train), "test.csv": csv_bytes(test), "sample_submission.csv": csv_bytes(sample)}


ELL_SCORES = ["cohesion", "syntax", "vocabulary", "phraseology", "grammar", "conventions"]


def feedback_ell(rng) -> dict[str, bytes]:
    """Feedback Prize - English Language Learning: six scores 1.0..5.0 by halves per essay; a sample of 3.0."""
    n, m = 60, 12
    ids = [f"{i:012X}" for i in rng.integers(0, 16**12, n + m)]
    train = pd.DataFrame({"text_id": ids[:n], "full_text": sentences(rng, n, "essay")})
    train[ELL_SCORES] = rng.integers(2, 11, (n, len(ELL_SCORES))) / 2
    test = pd.DataFrame({"text_id": ids[n:], "full_text": sentences(rng, m, "essay")})
    sample = pd.DataFrame({"text_id": test["text_id"], **{c: 3.0 for c in ELL_SCORES}})
    return {"train.csv": csv_bytes(train), "test.csv": csv_bytes(test), "sample_submission.csv": csv_bytes(sample)}


def essay_scoring(rng) -> dict[str, bytes]:
    """Automated Essay Scoring 2.0: a whole score 1..6 per essay; the sample is ``essay_id,score`` of 3."""
    n, m = 60, 12
    ids = [f"{i:07x}" for i in rng.integers(0, 16**7, n + m)]
    train = pd.DataFrame(
        {"essay_id": ids[:n], "full_text": sentences(rng, n, "essay"), "score": [1 + i % 6 for i in range(n)]}
    )
    test = pd.DataFrame({"essay_id": ids[n:], "full_text": sentences(rng, m, "essay")})
    sample = pd.DataFrame({"essay_id": test["essay_id"], "score": 3})
    return {"train.csv": csv_bytes(train), "test.csv": csv_bytes(test), "sample_submission.csv": csv_bytes(sample)}


def _flatten(files: dict[str, bytes]) -> dict[str, bytes]:
    """'train.zip/train.csv' -> a train.zip member holding train.csv (a zip in the zip)."""
    out = {}
    for name, data in files.items():
        if ".zip/" in name:
            outer, inner = name.split("/", 1)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as zf:
                zf.writestr(inner, data)
            out[outer] = buffer.getvalue()
        else:
            out[name] = data
    return out


CASES = {
    "research-articles": (
        research_articles,
        False,
        {
            "id_column": "ID",
            "text_columns": ["TITLE", "ABSTRACT"],
            "task": "multilabel",
            "metric": "macro_f1",
            "submission_format": "auto",
            "sample_submission_file": "sample_submission_UVKGLZE.csv",
        },
    ),
    "bbc-news": (
        bbc_news,
        False,
        {
            "id_column": "ArticleId",
            "text_columns": ["Text"],
            "label_column": "Category",
            "task": "multiclass",
            "metric": "accuracy",
            "train_file": "BBC News Train.csv",
            "test_file": "BBC News Test.csv",
            "sample_submission_file": "BBC News Sample Solution.csv",
        },
    ),
    "jigsaw-toxic": (
        jigsaw_toxic,
        True,
        {
            "id_column": "id",
            "text_columns": ["comment_text"],
            "task": "multilabel",
            "metric": "roc_auc",
            "submission_format": "probabilities",
        },
    ),
    "spooky": (
        spooky_authors,
        False,
        {
            "text_columns": ["text"],
            "label_column": "author",
            "label_names": ["EAP", "HPL", "MWS"],
            "task": "multiclass",
            "metric": "log_loss",
            "submission_format": "probabilities",
        },
    ),
    "tweet-sentiment-extraction": (
        tweet_spans,
        False,
        {
            "id_column": "textID",
            "task": "span",
            "context_column": "text",
            "answer_column": "selected_text",
            "question_column": "sentiment",
            "metric": "word_jaccard",
        },
    ),
    "nlp-getting-started": (
        disaster_tweets,
        False,
        {"text_columns": ["text"], "task": "binary", "metric": "f1", "submission_format": "auto"},
    ),
    "commonlitreadabilityprize": (
        commonlit_readability,
        False,
        {"id_column": "id", "text_columns": ["excerpt"], "task": "regression", "metric": "rmse", "label_columns": None},
    ),
    "feedback-prize-english-language-learning": (
        feedback_ell,
        False,
        {"id_column": "text_id", "task": "regression", "label_columns": ELL_SCORES, "metric": "mcrmse"},
    ),
    "learning-agency-lab-automated-essay-scoring-2": (
        essay_scoring,
        False,
        {"text_columns": ["full_text"], "task": "ordinal", "metric": "qwk", "label_column": None},
    ),
}


@pytest.mark.parametrize("slug", sorted(CASES))
def test_init_guesses_the_config_of_each_competition_layout(in_tmp, slug):
    make, nested, expected = CASES[slug]
    write_zip(Path("data") / slug / f"{slug}.zip", _flatten(make(np.random.default_rng(0))), nested=nested)
    path, guess = init_competition(slug)  # the zip the kaggle CLI would have left in data/<slug>/
    written = yaml.safe_load(path.read_text())
    assert {key: written.get(key) for key in expected} == expected
    assert written["name"] == slug and written["kaggle_competition"] == slug
    reasons = {g.key: g for g in guess.guesses}
    assert not reasons["metric"].sure and "# unsure" in path.read_text()  # only the Evaluation page knows
    assert all(g.reason for g in guess.guesses)


def test_a_sentence_pair_candidate_is_asked_and_unread_columns_are_named(in_tmp):
    write_zip(Path("research.zip"), research_articles(np.random.default_rng(1)))
    path, _ = init_competition("research", archive="research.zip")
    text = path.read_text()
    assert "a sentence pair (TITLE / ABSTRACT" in text and "text_pair: [TITLE, ABSTRACT]" in text
    write_zip(Path("tweets.zip"), disaster_tweets(np.random.default_rng(1)))
    path, _ = init_competition("tweets", archive="tweets.zip")
    assert "not read: keyword, location" in path.read_text()


def test_init_from_the_command_line_writes_a_config_that_folds_and_trains(in_tmp):
    write_zip(Path("data/bbc/bbc.zip"), bbc_news(np.random.default_rng(2)))
    out = foldwise_cli("init", "bbc")
    assert "label_column: Category" in out.stdout and "loads: 50 train rows" in out.stdout
    assert "already there" in foldwise_cli("init", "bbc", code=2).stderr
    foldwise_cli("folds", "bbc")
    assert Path("folds/bbc.csv").exists()


def test_without_files_or_credentials_init_names_the_download_command(in_tmp, monkeypatch):
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(Path("no-kaggle").resolve()))
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(FoldwiseError, match=r"kaggle competitions download -c some-comp -p data/some-comp"):
        init_competition("some-comp")
    assert not Path("configs/data/some-comp.yaml").exists()


def test_an_archive_without_a_sample_submission_is_refused_and_unpacks_nothing(in_tmp):
    files = tweet_spans(np.random.default_rng(0))
    files.pop("sample_submission.csv")
    write_zip(Path("tse.zip"), files)
    with pytest.raises(
        FoldwiseError,
        match=r"tse.zip: no sample_submission file in the archive "
        r"\(test.csv, train.csv\)",
    ):
        init_competition("tse", archive="tse.zip")
    assert not list(Path("data/tse").glob("*.csv")) and not Path("configs/data/tse.yaml").exists()


def test_init_guesses_numbers_end_to_end_and_says_what_is_unsure(in_tmp, capsys):
    write_zip(Path("aes.zip"), essay_scoring(np.random.default_rng(0)))
    path, guess = init_competition("aes", archive="aes.zip")
    sure = {g.key: g.sure for g in guess.guesses}
    assert not sure["task"] and not sure["metric"]  # classes named 1..6 look alike; only the Evaluation page knows
    assert "task: ordinal  # unsure: column 'score' holds whole numbers 1..6 (6 levels)" in path.read_text()
    assert "write task: multiclass and label_column: score instead" in path.read_text()
    write_zip(Path("ell.zip"), feedback_ell(np.random.default_rng(0)))
    path, guess = init_competition("ell", archive="ell.zip")
    assert {g.key: g.sure for g in guess.guesses}["task"]  # halves: real numbers
    assert "0/1 in train" not in path.read_text()
    for name in ("aes", "ell"):
        Path(f"configs/{name}-tfidf.yaml").write_text(f"data: {name}\n" + TINY_TFIDF)
        for args in (["folds", name], ["train", f"configs/{name}-tfidf.yaml"], ["ensemble", f"{name}-tfidf"]):
            assert main(args) == 0, capsys.readouterr().err
    essays = pd.read_csv("submissions/aes-tfidf.csv")
    assert list(essays.columns) == ["essay_id", "score"] and essays["score"].between(1, 6).all()
    assert essays["score"].dtype == np.int64  # levels, as the sample writes them
    scores = pd.read_csv("submissions/ell-tfidf.csv")
    assert list(scores.columns) == ["text_id", *ELL_SCORES] and scores[ELL_SCORES].dtypes.eq(np.float64).all()


def test_a_train_only_column_of_real_numbers_is_the_target_column_and_whole_numbers_stay_classes(in_tmp):
    files = commonlit_readability(np.random.default_rng(0))
    sample = pd.read_csv(io.BytesIO(files["sample_submission.csv"])).rename(columns={"target": "readability"})
    train = pd.read_csv(io.BytesIO(files["train.csv"])).drop(columns="standard_error")  # one train-only column
    write_zip(Path("renamed.zip"), {**files, "train.csv": csv_bytes(train), "sample_submission.csv": csv_bytes(sample)})
    path, _ = init_competition("renamed", archive="renamed.zip")
    written = yaml.safe_load(path.read_text())
    assert (written["task"], written["target_column"], written["metric"]) == ("regression", "target", "rmse")
    rng = np.random.default_rng(0)
    for name, labels, sample_cell, task in (
        ("two", [1 + i % 2 for i in range(30)], 1, "multiclass"),  # two values: classes
        ("named", [1 + i % 5 for i in range(30)], "pos", "multiclass"),  # the sample's cells name classes
        ("many", list(range(30)), 0, "regression"),  # 30 whole values: a number
    ):
        train = pd.DataFrame({"id": range(30), "text": sentences(rng, 30), "stars": labels})
        test = pd.DataFrame({"id": range(30, 36), "text": sentences(rng, 6)})
        write_zip(
            Path(f"{name}.zip"),
            {
                "train.csv": csv_bytes(train),
                "test.csv": csv_bytes(test),
                "sample_submission.csv": csv_bytes(test[["id"]].assign(stars=sample_cell)),
            },
        )
        path, _ = init_competition(name, archive=f"{name}.zip")
        assert yaml.safe_load(path.read_text())["task"] == task, name


def test_an_id_column_named_differently_in_the_sample_is_named_in_one_line(in_tmp):
    files = bbc_news(np.random.default_rng(0))
    sample = pd.read_csv(io.BytesIO(files["BBC News Sample Solution.csv"])).rename(columns={"ArticleId": "Id"})
    files["BBC News Sample Solution.csv"] = csv_bytes(sample)
    write_zip(Path("bbc.zip"), files)
    with pytest.raises(FoldwiseError, match="the id column 'Id' is called 'ArticleId' in test and train"):
        init_competition("bbc", archive="bbc.zip")


@pytest.mark.parametrize(
    "member", ['test"+__import__("os").system("touch pwned")+".csv', "test'.csv", "test\n.csv", "data/te\x1bst.csv"]
)
def test_a_member_name_with_a_quote_or_control_character_is_refused_by_name(in_tmp, member):
    files = tweet_spans(np.random.default_rng(0))
    files[member] = files.pop("test.csv")
    write_zip(Path("tse.zip"), files)
    with pytest.raises(FoldwiseError) as err:
        init_competition("tse", archive="tse.zip")
    message = str(err.value)
    assert message.startswith(f"tse.zip: member {member!r} has a quote") and "\n" not in message
    assert not Path("data/tse").exists() or not list(Path("data/tse").iterdir())
    assert not Path("configs/data/tse.yaml").exists() and not Path("pwned").exists()


def test_an_inner_zip_holding_a_file_the_archive_also_holds_is_refused_naming_both(in_tmp):
    files = tweet_spans(np.random.default_rng(0))
    inner = _flatten({"train.csv.zip/train.csv": tweet_spans(np.random.default_rng(1))["train.csv"]})
    write_zip(Path("tse.zip"), {**files, **inner})
    with pytest.raises(
        FoldwiseError,
        match=r"^tse.zip: train.csv.zip: holds 'train.csv', which would replace "
        r"the archive's 'train.csv'; remove one of the two$",
    ):
        init_competition("tse", archive="tse.zip")
    assert not list(Path("data/tse").iterdir())


def test_init_force_with_a_new_archive_reads_only_the_new_archives_files(in_tmp):
    write_zip(Path("v1.zip"), tweet_spans(np.random.default_rng(0)))  # 60 train rows, at the top
    init_competition("tse", archive="v1.zip")
    rows = pd.read_csv(io.BytesIO(tweet_spans(np.random.default_rng(1))["train.csv"])).iloc[:45]
    v2 = {f"v2/{name}": data for name, data in tweet_spans(np.random.default_rng(1)).items()}
    v2["v2/train.csv"] = csv_bytes(rows)
    write_zip(Path("v2.zip"), v2)
    Path("data/tse/my_notes.txt").write_text("kept")  # not an archive's file: left alone
    path, guess = init_competition("tse", archive="v2.zip", force=True)
    written = yaml.safe_load(path.read_text())
    assert written["train_file"] == "v2/train.csv" and written["test_file"] == "v2/test.csv"
    assert sorted(str(p.relative_to("data/tse")) for p in Path("data/tse").rglob("*") if p.is_file()) == [
        ".unpacked.json",
        "my_notes.txt",
        "v2/sample_submission.csv",
        "v2/test.csv",
        "v2/train.csv",
    ]
    assert "the train file (45 rows)" in path.read_text()


def test_train_and_test_ids_named_apart_reach_the_submission_under_the_samples_name(in_tmp, capsys):
    write_zip(Path("qqp.zip"), quora_pairs(np.random.default_rng(0)))
    path, _ = init_competition("qqp", archive="qqp.zip")  # loads: a config that cannot would raise
    written = yaml.safe_load(path.read_text())
    assert (written["id_column"], written["test_id_column"]) == ("id", "test_id")
    Path("configs/qqp-tfidf.yaml").write_text("data: qqp\n" + TINY_TFIDF)
    for args in (["folds", "qqp"], ["train", "configs/qqp-tfidf.yaml"], ["ensemble", "qqp-tfidf"]):
        assert main(args) == 0, capsys.readouterr().err
    submission = pd.read_csv("submissions/qqp-tfidf.csv")
    assert list(submission.columns) == ["test_id", "is_duplicate"]
    assert submission["test_id"].tolist() == list(range(12))


def test_a_sample_of_constant_ones_says_the_metric_is_a_blind_guess_and_leaves_the_format_to_it(in_tmp):
    write_zip(Path("qqp.zip"), quora_pairs(np.random.default_rng(0)))
    path, _ = init_competition("qqp", archive="qqp.zip")
    lines = {line.split(":")[0]: line for line in path.read_text().splitlines() if not line.startswith("#")}
    assert "unsure: a blind guess" in lines["metric"] and "the sample's cells are all 1" in lines["metric"]
    assert "log_loss, roc_auc" in lines["metric"]  # the alternatives
    assert lines["submission_format"].startswith("submission_format: auto  # ")
    path.write_text(path.read_text().replace("\nmetric: f1 ", "\nmetric: log_loss "))
    cfg = load_dataset_config(path)
    task = competition_task(cfg, load_competition(cfg))
    assert task.submission_format == "probabilities"  # the format followed the metric


def test_two_text_columns_of_one_kind_are_written_as_a_pair_and_say_why(in_tmp):
    write_zip(Path("qqp.zip"), quora_pairs(np.random.default_rng(0)))
    path, _ = init_competition("qqp", archive="qqp.zip")
    text = path.read_text()
    assert "text_pair: [question1, question2]  # a pair of one kind (names differing by a number" in text
    assert "shared words" in text and "text_columns" not in text
    write_zip(Path("short.zip"), quora_pairs(np.random.default_rng(0), short_first=True))
    path, _ = init_competition("short", archive="short.zip")
    written = yaml.safe_load(path.read_text())  # named alike, 3 words against 18: joined, asked
    assert written["text_columns"] == ["question1", "question2"] and "text_pair" not in written
    assert "text_pair: [question1, question2]` instead" in path.read_text()
