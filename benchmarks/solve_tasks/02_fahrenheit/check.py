from temperature import celsius_to_fahrenheit as f

assert f(0) == 32
assert f(100) == 212
assert abs(f(-40) - (-40)) < 1e-9
assert abs(f(37) - 98.6) < 1e-9
