def parse_kv(text):
    """'a=1;b=2' -> {'a': '1', 'b': '2'}"""
    result = {}
    for pair in text.split(";"):
        key, value = pair.split("=")
        result[key] = value
    return result
