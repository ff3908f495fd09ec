"""Which site a corpus page comes from, so that figures for sites never seen can be told apart.

The held-out and validation splits are drawn by page, so most of their pages come from
sites that also have training pages, whose templates (menus, footers, stock phrases) the
model has met; the pages users clean come mostly from sites it has not. ``make eval``
reports the news pages of seen and unseen sites in rows of their own (the model card's
rule 85 also tried folding whole sites in training). Pages that name no site count as
sites of their own.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from cleaner.decode import decode_bytes
from cleaner.training.corpus import GoldPage

_CANONICAL = re.compile(
    r"""<link[^>]+rel=["']?canonical["']?[^>]*href=["']([^"']+)"""
    r"""|<link[^>]+href=["']([^"']+)["'][^>]*rel=["']?canonical"""
    r"""|<meta[^>]+property=["']og:url["'][^>]*content=["']([^"']+)""", re.I)
_LINK_HOST = re.compile(r"""<a\s[^>]*?href=["']?https?://([^"'\s>/?#]+)""", re.I)
#: Hosts that pages link to without being them: ad servers, share buttons, social sites,
#: shops and blog platforms (read off the corpora's commonest link hosts).
NOT_A_SITE = frozenset({
    "doubleclick.net", "googlesyndication.com", "googleadservices.com", "google.com",
    "adtech.de", "twitter.com", "x.com", "facebook.com", "addthis.com", "sharethis.com",
    "feedburner.com", "digg.com", "delicious.com", "del.icio.us", "stumbleupon.com",
    "reddit.com", "linkedin.com", "pinterest.com", "instagram.com", "youtube.com",
    "amazon.com", "apple.com", "wordpress.org", "wordpress.com", "blogger.com",
    "technorati.com", "yahoo.com", "myspace.com", "newsvine.com", "mixx.com",
    "fark.com", "adobe.com", "macromedia.com", "w3.org", "creativecommons.org",
})
#: Second-level labels under which a country suffix is one registry (``bbc.co.uk``).
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu"})


def registered_domain(host: str) -> str | None:
    """``www.news.bbc.co.uk:80`` -> ``bbc.co.uk``; blogs of one platform share one
    (``x.blogspot.com`` -> ``blogspot.com``), as they share its template."""
    host = host.lower().rsplit("@", 1)[-1].split(":")[0].strip(".")
    parts = host.split(".")
    if len(parts) < 2 or not all(parts):
        return None
    if len(parts) >= 3 and parts[-2] in _SECOND_LEVEL and len(parts[-1]) == 2:
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def _host_of(url: str) -> str | None:
    try:
        return registered_domain(urlsplit(url).netloc)
    except ValueError:  # a malformed URL names no site
        return None


def page_site(page: GoldPage) -> str | None:
    """The page's site: its gold record's ``url``, else its canonical or ``og:url`` link,
    else the host its absolute links point at most (not counting ``NOT_A_SITE``)."""
    if page.extra.get("url"):
        site = _host_of(page.extra["url"])
        if site:
            return site
    html = decode_bytes(page.html_bytes())
    found = _CANONICAL.search(html)
    if found:
        url = next(group for group in found.groups() if group)
        site = _host_of(url) if url.startswith("http") else None
        if site:
            return site
    hosts = Counter(site for site in map(registered_domain, _LINK_HOST.findall(html))
                    if site and site not in NOT_A_SITE)
    return hosts.most_common(1)[0][0] if hosts else None


def site_key(page: GoldPage) -> str:
    """``site:<domain>``, or ``page:<corpus>/<id>`` for a page that names no site."""
    site = page_site(page)
    return f"site:{site}" if site else f"page:{page.corpus}/{page.page_id}"
