import shop

assert shop.total_price([1, 2, 3]) == 6
assert not hasattr(shop, "calc_total")
assert shop.receipt([2, 2]) == "total: 4"
