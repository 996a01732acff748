from numbers_util import is_even


def test_four_is_even():
    assert is_even(4)
