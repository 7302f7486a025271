"""Used privilege: CloudTrail events read as IAM actions, and what CloudTrail can see at all.

``actions``: event source and event name to the IAM action they exercise.
``observability``: which granted actions a trail could ever show as used.
"""
