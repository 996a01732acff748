from mathutil import clamp, square

assert clamp(5, 0, 10) == 5
assert clamp(-1, 0, 10) == 0
assert clamp(11, 0, 10) == 10
assert clamp(0, 0, 10) == 0 and clamp(10, 0, 10) == 10
assert square(4) == 16
