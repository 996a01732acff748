from ranking import top_n

assert top_n(["b", "a", "b", "c", "c", "c"], 2) == ["c", "b"]
assert top_n(["x", "y", "x", "y", "z"], 3) == ["x", "y", "z"]
assert top_n(["a"], 5) == ["a"]
