from kv import parse_kv

assert parse_kv("") == {}
assert parse_kv("a=1;") == {"a": "1"}
assert parse_kv("a=1;b=2") == {"a": "1", "b": "2"}
assert parse_kv(";x=y;;") == {"x": "y"}
