"""A reply with only some definitions of a Python module is merged into the module by name (agents.pymerge)."""

from __future__ import annotations

import pytest

from agents.pymerge import merge_definitions, renamed_definitions

MODULE = '''"""Text helpers."""

import re


def shout(s):
    return s.upper() + "!"


@staticmethod
def whisper(s):
    return s.lower()


class Box:
    def get(self):
        return 1
'''


def test_a_new_function_is_appended_and_a_missing_import_goes_after_the_imports() -> None:
    reply = "import unicodedata\nimport re\n\n\ndef slugify(title):\n    return re.sub(r'\\s+', '-', title.lower())\n"
    merged = merge_definitions(MODULE, reply)
    assert merged is not None
    assert merged.startswith('"""Text helpers."""\n\nimport re\nimport unicodedata\n\n\ndef shout(s):')
    assert merged.endswith("        return 1\n\n\n" + reply.split("\n\n\n", 1)[1])
    assert merged.count("import re") == 1


def test_a_definition_of_the_same_name_is_replaced_with_its_decorators() -> None:
    reply = "def whisper(s):\n    return s.lower() + '...'\n\n\nclass Box:\n    def get(self):\n        return 2\n"
    merged = merge_definitions(MODULE, reply)
    assert merged is not None
    assert "@staticmethod" not in merged and "def whisper(s):\n    return s.lower() + '...'\n\n\nclass Box" in merged
    assert "return 2" in merged and "return 1" not in merged and merged.count("def shout") == 1
    compile(merged, "m.py", "exec")


@pytest.mark.parametrize("reply", ["print('hi')\n", "def f(:\n", "", "x = 1\n\ndef f():\n    pass\n",
                                   "if __name__ == '__main__':\n    main()\n"])
def test_a_reply_that_is_not_only_definitions_is_not_merged(reply: str) -> None:
    assert merge_definitions(MODULE, reply) is None
    assert merge_definitions("def f(:\n", "def g():\n    pass\n") is None  # the module itself does not parse


def test_a_definition_under_a_new_name_with_the_same_body_is_a_rename() -> None:
    before = "def greet(name):\n    return f'Hello, {name}!'\n\n\ndef other():\n    return 1\n"
    assert renamed_definitions(before, "def welcome(name):\n    return f'Hello, {name}!'\n") == {"greet"}
    assert renamed_definitions(before, "def welcome(name):\n    return f'Welcome, {name}!'\n") == set()
    assert renamed_definitions(before, "class greet2:\n    pass\n") == set()
    assert renamed_definitions(before, "def (:") == set()
