"""bench/paired_answers.py: per-question SQuAD scores, the paired bootstrap and a clear error on a bad file."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "paired_answers.py"


def run(tmp_path: Path, a: str, b: str) -> subprocess.CompletedProcess:
    (tmp_path / "solution.csv").write_text(
        'id,answer\nq1,"[""Paris"", ""paris france""]"\nq2,Denver Broncos\nq3,1905\nq4,the Moon\n'
    )
    (tmp_path / "a.csv").write_text(a)
    (tmp_path / "b.csv").write_text(b)
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(tmp_path / "a.csv"),
            str(tmp_path / "b.csv"),
            "--solution",
            str(tmp_path / "solution.csv"),
            "--resamples",
            "500",
        ],
        capture_output=True,
        text=True,
    )


def test_scores_gap_overlap_and_oracle(tmp_path):
    # A: q1 exact (second gold), q2 half right (F1 2/3), q3 and q4 wrong; B: only q4, after normalisation.
    done = run(
        tmp_path,
        "id,answer\nq1,Paris France\nq2,Broncos\nq3,1906\nq4,Mars\n",
        "id,answer\nq4,moon\nq1,London\nq2,Chiefs\nq3,\n",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "a.csv: F1 41.67, exact match 25.00 (4 questions)"
    assert lines[1] == "b.csv: F1 25.00, exact match 25.00 (4 questions)"
    assert lines[2].startswith("F1 A - B: +16.67, 95% interval ")
    assert lines[3] == "answered (F1 > 0.5): both 0.0%, only A 50.0%, only B 25.0%"
    assert lines[4] == "oracle F1, the better answer per question: 66.67"


def test_identical_submissions_have_no_gap(tmp_path):
    same = "id,answer\nq1,Paris\nq2,Broncos\nq3,1905\nq4,Moon\n"
    done = run(tmp_path, same, same)
    assert done.returncode == 0, done.stderr
    assert "F1 A - B: +0.00, 95% interval +0.00 .. +0.00" in done.stdout


def test_a_missing_question_is_one_error_line(tmp_path):
    done = run(tmp_path, "id,answer\nq1,Paris\nq2,Broncos\nq3,1905\n", "id,answer\nq1,a\nq2,b\nq3,c\nq4,d\n")
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {tmp_path / 'a.csv'}: id 'q4' of the solution is missing (1 in all)"


def test_a_solution_without_its_answer_column_is_one_error_line(tmp_path):
    same = "id,answer\nq1,Paris\nq2,Broncos\nq3,1905\nq4,Moon\n"
    run(tmp_path, same, same)
    (tmp_path / "solution.csv").write_text("id\nq1\nq2\n")
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(tmp_path / "a.csv"),
            str(tmp_path / "b.csv"),
            "--solution",
            str(tmp_path / "solution.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {tmp_path / 'solution.csv'}: columns: 1, an answer file has 2 (id, answer)"
