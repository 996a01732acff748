from account import Account


def test_withdraw():
    assert Account(10).withdraw(3) == 7
