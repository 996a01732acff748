from words import word_count

assert word_count("The cat the CAT dog") == {"the": 2, "cat": 2, "dog": 1}
assert word_count("") == {}
assert word_count("a b a") == {"a": 2, "b": 1}
