from text import shout, slugify

assert slugify("Hello, World") == "hello-world"
assert slugify("Python 3 Rocks") == "python-3-rocks"
assert slugify("a  b") == "a-b"
assert shout("x") == "X!"
