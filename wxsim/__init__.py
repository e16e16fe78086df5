"""wxsim: a local WeChat Official Account platform for Liucun's tests, benchmarks and demo.

It never imports liucun, so it cannot share Liucun's mistakes. See docs/wxsim.md.
"""

__version__ = "0.1.0"
