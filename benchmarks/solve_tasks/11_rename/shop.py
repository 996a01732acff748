def calc_total(prices):
    """The sum of the prices."""
    return sum(prices)


def receipt(prices):
    return f"total: {calc_total(prices)}"
