def top_n(words, n):
    """The n most frequent words."""
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return sorted(counts)[:n]
