"""Grading any transformer implementation against the test plan (`tinytorch verify --impl`).

Two halves: the parent (`runner`, `cli_output`) starts a worker process and prints the verdict; the
worker (`worker` and every module it loads) runs the checks on the implementation through an adapter
(`protocol.Adapter`). The worker half needs numpy and the standard library only and is loaded by
file path under a private name, because the implementation being graded may itself be called
`tinytorch`. So modules of this package import each other relatively and never import `tinytorch`.
"""
