import os

# Tests compile numba kernels once and reuse the on-disk cache across runs.
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".numba_cache"))
