"""harness: measure when deep networks beat classical ML, and what compute buys.

Heavy libraries (torch, scikit-learn, matplotlib) are imported where they are used,
never here, so that ``harness --help`` stays fast.
"""

__version__ = "0.1.0"
