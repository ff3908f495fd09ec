"""Synthetic page chrome added to text renderings of corpus pages for training.

The research corpora hardly show what news scrapers bring home below an
article: "Related articles" blocks that are whole other stories in prose,
app-download and AI/newsletter promos, comment threads, syndication notes,
currency and stock tickers. Without examples the model keeps such prose as
body. So some training renderings get blocks of that chrome inserted after
their last body line (tickers: before the page), labelled by what they are.
Related stories are other corpus pages' own headlines and text, so their
prose is as real, and as multilingual, as the body's; the words of the
headings and promos matter less, as no feature reads words, only the shape
of lines and where they sit. Reader-comment threads are built the same way:
invented names, dates, and other pages' prose as the comments. The kinds of
chrome are those the developers' guide lists; the wording is our own, not
copied from the hand-labelled pages, so leave-one-out figures on those pages
stay honest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cleaner.labels import BLANK, BODY


@dataclass(frozen=True)
class Story:
    """Another page's headline and text paragraphs, to appear as a related story."""

    headline: str
    paragraphs: tuple[str, ...]


RELATED_HEADINGS = (
    "Related Articles", "Related", "Related stories", "More stories", "Read more",
    "Read More", "You may also like", "Recommended", "Recommended for you", "Most read",
    "Top stories", "Trending", "Also read", "ALSO READ", "More from {source}",
    "Latest news", "What to read next", "Popular now", "Lesen Sie auch", "Mehr zum Thema",
    "À lire aussi", "Sur le même sujet", "Leer más", "Noticias relacionadas", "Leia também",
    "Leggi anche", "Читайте также", "और पढ़ें", "संबंधित खबरें", "相关文章", "関連記事", "관련 기사",
)
SOURCES = (
    "Time of India", "Hindustan Times", "Malay Mail", "Reuters", "AP", "AFP", "The Guardian",
    "BBC News", "Al Jazeera", "Der Spiegel", "Le Monde", "El País", "NDTV", "Kyodo",
    "Yonhap", "Straits Times", "The Hindu", "Daily Mail", "CNN", "Bloomberg", "Euronews",
    "South China Morning Post", "Taipei Times", "Nikkei Asia", "ABC News", "RT", "DW",
)
TIMES = (
    "an hour ago", "{n} hours ago", "{n} minutes ago", "{n} days ago", "yesterday",
    "clock{n} minutes ago", "calendar{n} hours ago", "{d} {mon} {y}", "{mon} {d}, {y}",
    "{y}-{m:02d}-{d:02d}", "{d:02d}.{m:02d}.{y} {h:02d}:{mi:02d}", "{h:02d}:{mi:02d}",
    "{mon} {d}, {y} | {h:02d}:{mi:02d} IST", "vor {n} Stunden", "il y a {n} heures",
    "hace {n} horas", "{n} घंटे पहले", "{y}年{m}月{d}日", "{n}시간 전",
)
MONTHS = ("Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sep", "Oct",
          "Nov", "Dec")
PROMOS = (
    ("Discover our AI tools", "See what {brand} AI can do with the news:"),
    ("Sign up for our newsletter",
     "Get the day's top stories delivered to your inbox every morning.", "Subscribe"),
    ("Subscribe now", "Unlimited access to all our journalism from {price} a month.",
     "Already a subscriber? Log in"),
    ("Follow us on WhatsApp", "Get breaking news alerts on your phone."),
    ("Listen to this article", "{n} min"),
    ("Summarize this article with AI", "Ask {brand} AI a question about this story"),
    ("Newsletter", "Your email address", "Sign up", "By signing up you agree to our terms."),
    ("Share this article", "Facebook", "X", "WhatsApp", "Email", "Copy link"),
)
APPS = (
    ("DOWNLOAD THE APP", "Install the app in seconds",
     "All the news you care about, wherever you are: get our free app from your phone's "
     "store and never miss a story.", "app-storeplay-store"),
    ("Get the {brand} app", "Available on the App Store and Google Play"),
    ("Read this story in our app", "Open in app", "Download on the App Store",
     "Get it on Google Play"),
)
COMMENTS = (
    ("Comments", "There are no comments yet."),
    ("{n} comments", "Leave a comment", "Log in to comment"),
    ("Join the conversation", "Comments are closed for this article."),
    ("Be the first to comment",),
)
THREAD_HEADINGS = ("{n} Comments", "Comments", "Reader comments", "Join the discussion",
                   "{n} responses", "Leave a Reply", "Kommentare", "Commentaires", "Comentarios",
                   "评论", "コメント", "댓글")
#: Commenters' names and handles; invented, as the hand-labelled pages hold none.
COMMENTERS = ("John", "Maria K.", "dave_w", "Anonymous", "Guest", "Sarah Thompson", "Mike",
              "truthseeker", "Priya S", "Ahmed", "L. Chen", "oldtimer", "Kenji", "Olga",
              "Carlos M", "jen", "RealistBob", "Fatima", "Tom H.", "Ana Souza")
LEGALS = (
    "This story was published from a wire agency feed; the text has not been edited.",
    "(The {brand} newsroom may have changed only the headline of this wire report; the "
    "text comes unedited from the agency.)",
    "© {y} {brand}. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed.",
    "Disclaimer: This story is from a syndicated feed. Nothing has been changed except the "
    "headline.",
)
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CNY", "INR", "AUD", "CAD", "CHF", "HKD", "SGD",
              "KRW", "BRL", "MXN", "ZAR", "AED", "SAR", "TRY", "RUB", "SEK", "NOK", "PLN")
STOCKS = ("BP", "RIO", "GSK", "AZN", "HSBA", "VOD", "BCS", "RELX", "SHEL", "NGG", "BTI",
          "AAPL", "MSFT", "TSLA", "NVDA", "SAP", "TM", "BABA", "RYCEF", "JRI", "CMSC", "SCS")
#: Chance that a training page gets each kind of block.
CHANCES = {"related": 0.8, "thread": 0.25, "promo": 0.4, "app": 0.25, "comments": 0.3,
           "legal": 0.3, "ticker": 0.15}


def headline_of(title: str, body: str) -> str:
    """A page's title, or a headline-like first line of its body when it has no title."""
    if title.strip():
        return " ".join(title.split())
    for line in body.split("\n"):
        if 3 <= len(line.split()) <= 20:
            return line.strip()
    return " ".join(body.split()[:12])


def story_of(title: str, body: str) -> Story | None:
    paragraphs = tuple(p.strip() for p in body.split("\n") if len(p.strip()) >= 40)
    if not paragraphs:
        return None
    return Story(headline_of(title, body), paragraphs)


def _fill(template: str, rng: random.Random, brand: str) -> str:
    return template.format(
        n=rng.randint(2, 59), d=rng.randint(1, 28), m=rng.randint(1, 12),
        y=rng.randint(2015, 2026), h=rng.randint(0, 23), mi=rng.randint(0, 59),
        mon=rng.choice(MONTHS), source=brand, brand=brand, price=f"${rng.randint(1, 15)}")


def _lead(story: Story, rng: random.Random) -> list[str]:
    """The story's text as scrapers keep it: one long line, or a few paragraphs."""
    count = rng.randint(1, len(story.paragraphs))
    paragraphs = list(story.paragraphs[:count])
    if rng.random() < 0.6:
        text = " ".join(paragraphs)
        if rng.random() < 0.3:
            text = f"{story.headline.split()[0].upper()}: {text}"
        return [text[:rng.choice((200, 400, 1500, 20000))]]
    return paragraphs[:4]


def related_block(stories: list[Story], rng: random.Random) -> list[str]:
    brand = rng.choice(SOURCES)
    lines = []
    if rng.random() < 0.8:
        lines.append(_fill(rng.choice(RELATED_HEADINGS), rng, brand))
    layout = rng.random()
    for story in stories:
        source = rng.choice(SOURCES) if rng.random() < 0.5 else brand
        if layout < 0.25:  # headlines only
            lines.append(story.headline)
            continue
        if layout < 0.4:  # one line per story: a kicker or not, the standfirst, the text
            kicker = f"{story.headline.split()[0].upper()}: " if rng.random() < 0.5 else ""
            text = " ".join((story.headline, *story.paragraphs[:2]))
            lines.append((kicker + text)[:rng.choice((200, 300, 600))])
            continue
        item = [story.headline]
        if rng.random() < 0.3:
            item.append(story.headline)
        if rng.random() < 0.6:
            item += [source, _fill(rng.choice(TIMES), rng, brand)]
            if rng.random() < 0.5:
                item.append(rng.choice(("- ", "  • ", "• ", "")) + source)
        if rng.random() < 0.3:
            item.append(story.headline)
        item += _lead(story, rng)
        if rng.random() < 0.3:
            item.append(rng.choice(("Read more", "Continue reading", "More »", "→")))
        lines += item
    return lines


def _comment_text(story: Story, rng: random.Random) -> str:
    """A reader's comment: a sentence or a few of another page's prose (real prose, in the
    corpus' languages), which is what comment threads look like line by line."""
    text = rng.choice(story.paragraphs)
    return text[:rng.choice((80, 160, 400, 1000))]


def comment_thread(stories: list[Story], rng: random.Random) -> list[str]:
    """A thread of reader comments: who, when, what they wrote, and reply buttons,
    repeated; the heading and the name/date/text layout vary as sites vary."""
    brand = rng.choice(SOURCES)
    lines = []
    if rng.random() < 0.8:
        lines.append(_fill(rng.choice(THREAD_HEADINGS), rng, brand))
    layout = rng.randrange(3)
    for _ in range(rng.randint(2, 12)):
        name = rng.choice(COMMENTERS) + (str(rng.randint(1, 999)) if rng.random() < 0.3 else "")
        when = _fill(rng.choice(TIMES), rng, brand)
        text = _comment_text(rng.choice(stories), rng)
        if layout == 0:
            lines += [f"{name} says:", when, text]
        elif layout == 1:
            lines += [name, when, text]
        else:
            lines += [f"{name} {rng.choice(('on', '·', '|', '-'))} {when}", text]
        if rng.random() < 0.5:
            lines.append(rng.choice(("Reply", "Like · Reply", "Report", "{n} likes", "↑ {n}")
                                    ).format(n=rng.randint(1, 99)))
    return lines


def _template_block(choices: tuple, rng: random.Random) -> list[str]:
    brand = rng.choice(SOURCES)
    block = rng.choice(choices)
    block = (block,) if isinstance(block, str) else block
    return [_fill(line, rng, brand) for line in block]


def ticker_block(rng: random.Random) -> tuple[list[str], str]:
    if rng.random() < 0.5:
        codes = rng.sample(CURRENCIES, rng.randint(4, len(CURRENCIES)))
        return [f"{code} {rng.uniform(0.01, 3000):.{rng.randint(2, 6)}f}" for code in codes], \
            "currency"
    codes = rng.sample(STOCKS, rng.randint(3, len(STOCKS)))
    lines = []
    for code in codes:
        price = rng.uniform(0.1, 500)
        change = rng.uniform(-5, 5)
        lines.append(f"• {code} / {rng.uniform(0, 1):.4f} / {price:.2f} / {change:+.2f}%")
    return lines, "stock"


def _spaced(lines: list[str], label: str, rng: random.Random) -> tuple[list[str], list[str]]:
    """Lines with the page's habit of blank lines between them, and their labels."""
    gap = rng.choice((0, 0, 1, 1, 2))
    out: list[str] = []
    labels: list[str] = []
    for line in lines:
        out.append(line)
        labels.append(label)
        out += [""] * gap
        labels += [BLANK] * gap
    return out, labels


def add_chrome(lines: list[str], labels: list[str], stories: list[Story],
               rng: random.Random) -> tuple[list[str], list[str]]:
    """Lines and labels of a rendering with chrome blocks inserted after its last body line.

    The page's own lines keep their order and labels; pages without body are returned
    unchanged.
    """
    body_rows = [i for i, label in enumerate(labels) if label == BODY]
    if not body_rows:
        return list(lines), list(labels)
    blocks: list[tuple[list[str], str]] = []
    if stories and rng.random() < CHANCES["related"]:
        blocks.append((related_block(stories, rng), "related"))
    if stories and rng.random() < CHANCES["thread"]:
        blocks.append((comment_thread(stories, rng), "comments"))
    for kind, choices in (("promo", PROMOS), ("app", APPS), ("comments", COMMENTS),
                          ("legal", LEGALS)):
        if rng.random() < CHANCES[kind]:
            blocks.append((_template_block(choices, rng), kind))
    rng.shuffle(blocks)
    after_lines: list[str] = []
    after_labels: list[str] = []
    for block, label in blocks:
        block_lines, block_labels = _spaced(block, label, rng)
        gap = [""] if rng.random() < 0.7 else []  # some pages run chrome on without a gap
        after_lines += gap + block_lines
        after_labels += [BLANK] * len(gap) + block_labels
    before_lines: list[str] = []
    before_labels: list[str] = []
    if rng.random() < CHANCES["ticker"]:
        block, label = ticker_block(rng)
        before_lines, before_labels = _spaced(block, label, rng)
    cut = body_rows[-1] + 1
    return (before_lines + lines[:cut] + after_lines + lines[cut:],
            before_labels + labels[:cut] + after_labels + labels[cut:])
