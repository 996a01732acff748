import unittest

from bank import Account, transfer


class AccountTest(unittest.TestCase):
    def test_deposit_and_withdraw(self):
        acct = Account("ada", 10)
        self.assertEqual(acct.deposit(5), 15)
        self.assertEqual(acct.withdraw(3), 12)

    def test_transfer(self):
        a, b = Account("a", 10), Account("b")
        transfer(a, b, 4)
        self.assertEqual((a.balance, b.balance), (6, 4))


if __name__ == "__main__":
    unittest.main()
