from shop import receipt


def test_receipt():
    assert receipt([1, 2]) == "total: 3"
