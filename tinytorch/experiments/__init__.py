"""Learning experiments shared by the tests, `tinytorch verify` and the benchmarks.

Each function trains a small model and returns its measured figures; callers decide the
thresholds (tests assert them, verify prints them).
"""
