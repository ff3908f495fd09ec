"""The compiled tree walk (cleaner/_treewalk.c); everything else is in pyproject.toml.

optional=True: where no C compiler is at hand, cleaner installs without the extension
and predicts with numpy (the same numbers, about twice as slow in text mode).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("cleaner._treewalk", ["cleaner/_treewalk.c"], optional=True)])
