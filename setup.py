"""The compiled kernels (rtanalytics/_kernels.c), built by ``pip install`` when a C compiler is there.

Optional: without a compiler, or where it fails, the install goes on and rtanalytics uses its numpy code, which
gives the same results (``rtanalytics.kernels.available()`` says which is in use). The library has no Python
API: it is loaded with ctypes, so one build serves every Python version.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("rtanalytics._kernels", ["rtanalytics/_kernels.c"], optional=True,
                             extra_compile_args=["-O3", "-ffp-contract=off", "-fno-fast-math"])])
