"""Site keys: make eval tells news pages of sites training saw from those it never saw."""

from __future__ import annotations

import gzip
from pathlib import Path

from cleaner.training.corpus import GoldPage
from cleaner.training.sites import page_site, registered_domain, site_key


def _page(tmp_path: Path, name: str, html: str, **extra) -> GoldPage:
    path = tmp_path / f"{name}.html.gz"
    path.write_bytes(gzip.compress(html.encode()))
    return GoldPage("wcxb" if "page_type" in extra else "c", name, path, "body", extra=extra)


def test_registered_domain_reads_hosts_as_their_site() -> None:
    assert registered_domain("www.nytimes.com") == "nytimes.com"
    assert registered_domain("news.bbc.co.uk:80") == "bbc.co.uk"
    assert registered_domain("someone.blogspot.com") == "blogspot.com"
    assert registered_domain("localhost") is None
    assert registered_domain("") is None


def test_a_page_names_its_site_by_url_then_canonical_then_its_links(tmp_path: Path) -> None:
    canonical = "<link rel='canonical' href='https://www.example.org/a/b'>"
    links = ("<a href='http://ad.doubleclick.net/x'>ad</a>" * 5
             + "<a href='http://www.paper.co.uk/1'>1</a><a href='http://paper.co.uk/2'>2</a>")
    assert page_site(_page(tmp_path, "u", canonical, url="https://shop.example.com/x")) \
        == "example.com"
    assert page_site(_page(tmp_path, "c", canonical + links)) == "example.org"
    # Ad servers and share buttons are linked from many sites; they are not the page's.
    assert page_site(_page(tmp_path, "l", links)) == "paper.co.uk"
    assert page_site(_page(tmp_path, "n", "<p>no links</p><a href='http://[bad/'>x</a>")) is None


def test_pages_without_a_site_are_sites_of_their_own(tmp_path: Path) -> None:
    pages = [_page(tmp_path, f"p{i}", "", url=f"https://www.site{i % 3}.com/{i}")
             for i in range(9)] + [_page(tmp_path, "x", ""), _page(tmp_path, "y", "")]
    keys = [site_key(page) for page in pages]
    assert keys[0] == keys[3] == "site:site0.com" and keys[9:] == ["page:c/x", "page:c/y"]
    assert len(set(keys)) == 5


def test_news_pages_count_in_a_row_by_whether_training_saw_their_site(tmp_path: Path) -> None:
    from cleaner.training.evaluate import site_rows

    article = _page(tmp_path, "a", "", page_type="article")
    forum = _page(tmp_path, "f", "", page_type="forum")
    old_news = GoldPage("dragnet", "d", tmp_path / "a.html.gz", "body")
    seen = {"site:seen.com"}
    assert site_rows(article, "site:seen.com", seen) == ["news: seen sites"]
    assert site_rows(old_news, "site:other.com", seen) == ["news: unseen sites"]
    assert site_rows(old_news, "page:dragnet/d", seen) == ["news: unseen sites"]
    assert site_rows(forum, "site:seen.com", seen) == []
