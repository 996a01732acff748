from stack import Stack

s = Stack()
try:
    s.peek()
except IndexError:
    pass
else:
    raise SystemExit("peek on an empty stack did not raise IndexError")
s.push(1)
s.push(2)
assert s.peek() == 2
assert s.peek() == 2
assert s.pop() == 2 and s.pop() == 1
