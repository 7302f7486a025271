"""Synthetic data in the real formats Overreach reads.

``formats`` writes AWS and inventory files exactly as AWS and users produce
them; ``sample`` uses it to build the committed sample organisation.
"""
