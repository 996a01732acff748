from ranking import top_n


def test_single():
    assert top_n(["a"], 1) == ["a"]
