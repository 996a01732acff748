"""Git and the stagings: the only modules that run git."""
