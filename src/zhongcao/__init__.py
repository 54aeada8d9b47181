"""zhongcao (种草): a Xiaohongshu-style social-commerce marketing platform.

The package is cut into vertical slices (see ARCHITECTURE.md). A slice's ``__init__`` is its facade,
the only thing other slices import.
"""

__version__ = "0.1.0"
