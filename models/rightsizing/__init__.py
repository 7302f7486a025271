"""Right-sizing: least-privilege policies proposed from observed use, their diff and replay check."""
