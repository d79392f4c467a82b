"""TinyTorch's path `tinytorch.core.threads`: the code lives in `tinytorch.runtime.threads`."""

from ..runtime.threads import (  # noqa: F401
    Blas, CoreMonitor, ENV_VARS, FLOPS_PER_THREAD, FREE_CORE_SLACK, PARALLEL_FLOPS, RESAMPLE_SECONDS,
    ThreadPolicy, blas_threads, get_num_threads, model_flops, model_threads, num_threads, policy,
    set_num_threads, threads_in_use,
)
