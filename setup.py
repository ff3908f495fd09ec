"""The compiled tree walk (cleaner/_treewalk.c) and word hashing (cleaner/_words.c);
everything else is in pyproject.toml.

optional=True: where no C compiler is at hand, cleaner installs without the extensions
and predicts and hashes words with numpy (the same numbers, text mode about 1.8 times
slower). -O3: some Pythons build extensions with -O2, which makes the walk ~15% slower.
"""

import sys

from setuptools import Extension, setup

ARGS = [] if sys.platform == "win32" else ["-O3"]
setup(ext_modules=[
    Extension("cleaner._treewalk", ["cleaner/_treewalk.c"], optional=True,
              extra_compile_args=ARGS),
    Extension("cleaner._words", ["cleaner/_words.c"], optional=True, extra_compile_args=ARGS),
])
