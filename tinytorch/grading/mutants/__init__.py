"""The mutation catalog: realistic bugs planted in correct implementations, each of which the grader must
catch with the right check (`catalog.MUTANTS`; run by tests/grading/test_mutation_catalog.py)."""
