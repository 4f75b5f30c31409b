from foldwise.config import TextConfig
from foldwise.data.text import clean_texts


def test_every_step_is_off_by_default():
    text = "Look @bob  http://x.io 😂"
    assert clean_texts([text], TextConfig())[0] == text


def test_steps_when_enabled():
    cfg = TextConfig(strip_urls=True, strip_users=True, demojize=True, lowercase=True)
    out = clean_texts(["Look @Bob and u/Alice_2  at https://x.io/a?b=1 😂 NOW"], cfg)[0]
    assert out == "look and at :face_with_tears_of_joy: now"


def test_whitespace_only():
    assert clean_texts(["  a \n\t b  "], TextConfig(normalize_whitespace=True))[0] == "a b"


def test_email_is_not_a_user_mention():
    assert clean_texts(["mail me@home.org"], TextConfig(strip_users=True))[0] == "mail me@home.org"
