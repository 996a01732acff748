from account import Account

a = Account(10)
for bad in (11, -1):
    try:
        a.withdraw(bad)
    except ValueError:
        pass
    else:
        raise SystemExit(f"withdraw({bad}) did not raise")
assert a.balance == 10
assert a.withdraw(10) == 0
