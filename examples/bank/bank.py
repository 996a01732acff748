"""A tiny bank account module: the demo project for `orchestrate` (see the README's first command)."""


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance

    def deposit(self, amount):
        self.balance += amount
        return self.balance

    def withdraw(self, amount):
        self.balance -= amount
        return self.balance


def transfer(source, target, amount):
    source.withdraw(amount)
    target.deposit(amount)
