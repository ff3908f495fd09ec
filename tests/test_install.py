"""What users install is what is tested: a wheel built from this checkout, installed
into a fresh virtual environment (dependencies from the registry, as a user gets them),
run from a directory outside the checkout with the model the wheel carries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from cleaner import clean

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "tests" / "fixtures" / "pages" / "bakery.html"


def _build_wheel(work: Path) -> Path:
    """Build from a copy of the sources, so no stale ``build/`` of the checkout leaks in."""
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.so")
    shutil.copytree(REPO / "cleaner", source / "cleaner", symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "models", source / "models", ignore=ignore)
    seeds = Path("tests", "fixtures", "seeds")  # cleaner/seeds links here
    shutil.copytree(REPO / seeds, source / seeds, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                    "-w", str(work / "dist"), str(source)], check=True, cwd=work)
    (wheel,) = (work / "dist").glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` directory of a fresh venv with the built wheel installed."""
    work = tmp_path_factory.mktemp("install")
    return _venv_with(work / "venv", str(_build_wheel(work)))


def _venv_with(env_dir: Path, requirement: str) -> Path:
    """A fresh venv with ``requirement`` installed from the registry; its ``bin``."""
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", requirement],
                   check=True, cwd=env_dir.parent)
    return bin_dir


def _run(bin_dir: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "CLEANER_MODEL", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _python(bin_dir: Path, code: str, cwd: Path) -> str:
    """The stdout of the venv's python running ``code``, which must succeed."""
    result = _run(bin_dir, [str(bin_dir / "python"), "-c", code], cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_wheel_is_named_for_the_registry_and_carries_the_model(installed: Path) -> None:
    wheel = next((installed.parent.parent / "dist").glob("*.whl"))
    assert wheel.name.startswith("news_cleaner-")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(path.name for path in (REPO / "models").iterdir() if path.is_file())
    assert shipped and all(f"cleaner/models/{name}" in names for name in shipped)
    seeds = sorted(path.name for path in (REPO / "tests" / "fixtures" / "seeds").iterdir())
    assert seeds and all(f"cleaner/seeds/{name}" in names for name in seeds)


def test_installed_cli_cleans_a_page_outside_the_checkout(installed: Path,
                                                          tmp_path: Path) -> None:
    shutil.copy(PAGE, tmp_path / "page.html")
    result = _run(installed, ["cleaner", "clean", "page.html", "-o", "out/"], tmp_path)
    assert result.returncode == 0, result.stderr
    body = (tmp_path / "out" / "page.txt").read_text(encoding="utf-8")
    # The same shipped model as the checkout's, so the same body.
    assert body == clean(PAGE.read_bytes()) + "\n"
    assert "The bakery on Mill Street opened its doors again" in body


def test_installed_package_imports_from_the_venv_and_finds_its_model(installed: Path,
                                                                    tmp_path: Path) -> None:
    code = ("import cleaner, cleaner.model as m; "
            "print(cleaner.__file__); print(m.default_model_path())")
    module_file, model_path = _python(installed, code, tmp_path).splitlines()
    venv_root = str(installed.parent)
    assert module_file.startswith(venv_root) and model_path.startswith(venv_root)
    assert Path(model_path).is_file()


def test_installed_package_has_the_compiled_parts(installed: Path, tmp_path: Path) -> None:
    """The wheel carries the built extensions (cleaner/_treewalk.c, cleaner/_words.c), not
    only their source."""
    code = ("from cleaner import forest, lexicon; print(forest.COMPILED.__file__); "
            "print(lexicon.COMPILED.__file__)")
    walk, words = _python(installed, code, tmp_path).split()
    assert walk.startswith(str(installed.parent)) and words.startswith(str(installed.parent))


def test_installed_clean_batch_drops_what_recurs_across_a_site(installed: Path,
                                                               tmp_path: Path) -> None:
    """The wheel's ``clean_batch`` with the shipped model (the gate raised, so that the
    test does not hang on how sure the model is of the shared line)."""
    code = (
        "import cleaner, cleaner.site_memory as s; s.REPEAT_GATE = 1.01\n"
        "shared = 'Our reporting is paid for by readers like you, and every story is free.'\n"
        "stories = ['The harbour board voted on Tuesday to rebuild the breakwater by winter.',\n"
        "           'A bakery on Mill Street has baked the town bread for a hundred years.']\n"
        "pages = [f'{t}\\n\\n{t} It went on at length.\\n\\n{shared}\\n' for t in stories]\n"
        "c = cleaner.Cleaner(input_format='text')\n"
        "print(s.__file__)\n"
        "print([shared in t for t in c.clean_many(pages)])\n"
        "print([shared in t for t in c.clean_batch(pages, ['x.com', 'x.com'])])\n")
    module_file, alone, together = _python(installed, code, tmp_path).splitlines()
    assert module_file.startswith(str(installed.parent))
    assert alone == "[True, True]" and together == "[False, False]"


def test_installed_cli_sites_drops_what_the_installed_clean_batch_drops(
        installed: Path, tmp_path: Path) -> None:
    """``cleaner clean --sites folder`` with two worker processes and the shipped model
    writes what the wheel's ``clean_batch`` returns, which on these pages differs from
    cleaning them one by one."""
    from test_cli_sites import SHARED, STORIES, text_page

    site = tmp_path / "in" / "x.com"
    site.mkdir(parents=True)
    for number, story in enumerate(STORIES):
        (site / f"{number}.txt").write_text(text_page(story))
    result = _run(installed, ["cleaner", "clean", "in", "-o", "out", "--sites", "folder",
                              "-j", "2"], tmp_path)
    assert result.returncode == 0, result.stderr
    code = ("import json, pathlib, cleaner\n"
            "paths = sorted(pathlib.Path('in/x.com').glob('*.txt'))\n"
            "texts = [p.read_text() for p in paths]\n"
            "c = cleaner.Cleaner()\n"
            "print(json.dumps([[p.name for p in paths], c.clean_batch(texts, ['x'] * len(texts)),"
            " list(c.clean_many(texts))]))\n")
    names, together, alone = json.loads(_python(installed, code, tmp_path))
    assert [(tmp_path / "out" / "x.com" / name).read_text() for name in names] == \
        [body + "\n" for body in together]
    assert sum(SHARED in body for body in alone) > sum(SHARED in body for body in together)


def test_installed_cli_reports_its_version(installed: Path, tmp_path: Path) -> None:
    import cleaner

    result = _run(installed, ["cleaner", "--version"], tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"cleaner {cleaner.__version__}"


def test_installed_cleaner_trains_on_labelled_pages_and_cleans_with_the_new_model(
        installed: Path, tmp_path: Path) -> None:
    from cleaner.model import DEFAULT_MODEL_PATH

    labelled = tmp_path / "labelled"
    labelled.mkdir()
    seed = sorted((REPO / "tests" / "fixtures" / "seeds").glob("*.labels.tsv"))[0]
    shutil.copy(seed, labelled / "mine.labels.tsv")
    model = f"mine{DEFAULT_MODEL_PATH.suffix}"
    result = _run(installed, ["cleaner", "train", "--labelled", "labelled", "-o", model,
                              "--keep-iterations", "3", "--reason-iterations", "3"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no corpora (--data)" in result.stderr
    shipped_seeds = len(list(seed.parent.glob("*.labels.tsv")))
    assert f"of {shipped_seeds + 1} hand-labelled pages" in result.stderr
    shutil.copy(PAGE, tmp_path / "page.html")
    result = _run(installed, ["cleaner", "clean", "page.html", "-o", "out", "--model", model],
                  tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "page.txt").exists()


@pytest.fixture(scope="module")
def installed_with_datatrove(installed: Path) -> Path:
    """The ``bin`` directory of a second fresh venv: the same wheel with its datatrove
    extra, as ``pip install 'news-cleaner[datatrove]'`` gives it."""
    work = installed.parent.parent
    wheel = next((work / "dist").glob("*.whl"))
    return _venv_with(work / "venv-datatrove", f"{wheel}[datatrove]")


def test_installed_datatrove_steps_drop_what_clean_batch_drops(
        installed_with_datatrove: Path, tmp_path: Path) -> None:
    """The survey and the extractor from the installed extra, outside the checkout: a
    site's pages in two input files, so that two survey tasks each see half."""
    from cleaner import Cleaner
    from tests.test_cli_sites import SHARED, STORIES, text_page

    texts = [text_page(f"{story} Part {part}.") for part in range(2) for story in STORIES]
    (tmp_path / "in").mkdir()
    for part in range(2):
        (tmp_path / "in" / f"part{part}.jsonl").write_text("".join(
            json.dumps({"id": str(number), "text": texts[number],
                        "url": f"https://x.com/{number}"}) + "\n"
            for number in range(part, len(texts), 2)))
    code = (
        "import cleaner.datatrove as d\n"
        "from datatrove.executor import LocalPipelineExecutor as E\n"
        "from datatrove.pipeline.readers import JsonlReader as R\n"
        "from datatrove.pipeline.writers import JsonlWriter as W\n"
        "E([R('in'), d.SiteSurvey('sites')], tasks=2, logging_dir='l1').run()\n"
        "E([R('in'), d.CleanerExtractor(input_format='text', site_template='sites'),\n"
        "   W('out', compression=None)], tasks=2, logging_dir='l2').run()\n"
        "print(d.__file__)\n")
    stdout = _python(installed_with_datatrove, code, tmp_path)
    assert stdout.strip().splitlines()[-1].startswith(str(installed_with_datatrove.parent))
    written = {int(document["id"]): document["text"]
               for path in (tmp_path / "out").glob("*.jsonl")
               for document in map(json.loads, path.read_text().splitlines())}
    expected = Cleaner().clean_batch(texts, ["x.com"] * len(texts))
    assert written == dict(enumerate(expected))
    assert sum(SHARED in body for body in Cleaner().clean_many(texts)) \
        > sum(SHARED in body for body in expected)
