"""Write the HTML extraction corpus: ``articles.txt`` -> one page + one sidecar each.

Each article is rendered into the page shape of a kind of site seen in the wild
(WordPress, Ghost, Substack, Medium, Hugo, a documentation blog, news front pages
with teaser cards, pages with no semantic tags at all, right-to-left Arabic and
Hebrew, Ukrainian news, a stream of several full articles), surrounded by that
kind of site's chrome: menus, cookie banners, share and follow bars, newsletter
boxes, related lists, comments, ads, hidden screen-reader and paywall blocks, lazy
images in their four common forms. The sidecar ``NAME.json`` holds what a reader
sees as the article: its title, byline and text (the ground truth).

Run ``python tests/corpus_html/generate.py`` after editing ``articles.txt`` or a
shape; the pages are committed so the test does not depend on this script. Pages
named ``hw-*`` (an old table layout, Blogger, Sphinx, a body marked only by
``itemprop=articleBody``, a Ukrainian paywalled page) are written by hand, with
hand-written sidecars, and this script leaves them alone.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

HERE = Path(__file__).parent
INLINE = re.compile(r"\*\*(.+?)\*\*|\*(.+?)\*|\[(.+?)\]\((.+?)\)|`(.+?)`")


def inline_html(text: str) -> str:
    out, last = [], 0
    for match in INLINE.finditer(text):
        out.append(escape(text[last : match.start()], quote=False))
        strong, em, link, href, code = match.groups()
        if strong:
            out.append(f"<strong>{escape(strong)}</strong>")
        elif em:
            out.append(f"<em>{escape(em)}</em>")
        elif link:
            out.append(f'<a href="{escape(href)}">{escape(link)}</a>')
        else:
            out.append(f"<code>{escape(code)}</code>")
        last = match.end()
    out.append(escape(text[last:], quote=False))
    return "".join(out)


def inline_text(text: str) -> str:
    return INLINE.sub(lambda m: next(g for g in m.groups()[:3] + m.groups()[4:] if g), text)


def read_articles() -> list[dict]:
    articles = []
    for chunk in (HERE / "articles.txt").read_text(encoding="utf-8").split("=== ")[1:]:
        head, *lines = chunk.rstrip("\n").split("\n")
        slug, shape = (part.strip() for part in head.split("|"))
        article: dict = {"slug": slug, "shape": shape, "blocks": []}
        code: list[str] | None = None
        for line in lines:
            if code is not None:
                if line.startswith("```"):
                    article["blocks"].append(("code", "\n".join(code[1:]), code[0]))
                    code = None
                else:
                    code.append(line)
            elif line.startswith("```"):
                code = [line[3:].strip()]
            elif (key := line.split(": ", 1)[0]) in ("title", "author", "date") and (
                key not in article
            ):
                article[key] = line.split(": ", 1)[1]
            elif line.startswith("## "):
                article["blocks"].append(("h2", line[3:]))
            elif line.startswith("- "):
                if article["blocks"] and article["blocks"][-1][0] == "ul":
                    article["blocks"][-1][1].append(line[2:])
                else:
                    article["blocks"].append(("ul", [line[2:]]))
            elif line.startswith("> "):
                article["blocks"].append(("quote", line[2:]))
            elif line.startswith("! "):
                src, alt, caption = (p.strip() for p in line[2:].split("|"))
                article["blocks"].append(("img", src, alt, caption))
            elif line.startswith("| "):
                row = [c.strip() for c in line[2:].split("|")]
                if article["blocks"] and article["blocks"][-1][0] == "table":
                    article["blocks"][-1][1].append(row)
                else:
                    article["blocks"].append(("table", [row]))
            elif line.strip():
                article["blocks"].append(("p", line))
        articles.append(article)
    return articles


def lazy_img(src: str, alt: str, style: int) -> str:
    """The four lazy-loading patterns seen on real sites, and a plain image."""
    alt = escape(alt)
    big = src.replace(".jpg", "-1600.jpg")
    small = src.replace(".jpg", "-400.jpg")
    if style == 1:
        return (
            f'<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="{src}" '
            f'alt="{alt}" class="lazyload"><noscript><img src="{src}" alt="{alt}"></noscript>'
        )
    if style == 2:
        return f'<img class="lazy" data-srcset="{small} 400w, {big} 1600w" alt="{alt}">'
    if style == 3:
        return (
            f'<picture><source type="image/webp" srcset="{small}.webp 400w">'
            f'<img src="/static/placeholder.svg" srcset="{small} 400w, {big} 1600w" '
            f'sizes="100vw" alt="{alt}" loading="lazy"></picture>'
        )
    return f'<img src="{src}" alt="{alt}" width="1200" height="800" loading="lazy">'


def render_body(article: dict, style: int, *, figure_class: str = "") -> tuple[str, str]:
    """(body HTML, expected text)."""
    html, text = [], []
    for block in article["blocks"]:
        kind = block[0]
        if kind == "p":
            html.append(f"<p>{inline_html(block[1])}</p>")
            text.append(inline_text(block[1]))
        elif kind == "h2":
            html.append(f"<h2>{escape(block[1])}</h2>")
            text.append(block[1])
        elif kind == "ul":
            items = "".join(f"<li>{inline_html(item)}</li>" for item in block[1])
            html.append(f"<ul>{items}</ul>")
            text.extend(inline_text(item) for item in block[1])
        elif kind == "quote":
            html.append(f"<blockquote><p>{inline_html(block[1])}</p></blockquote>")
            text.append(inline_text(block[1]))
        elif kind == "code":
            html.append(f'<pre><code class="language-{block[2]}">{escape(block[1])}</code></pre>')
            text.append(block[1])
        elif kind == "img":
            _, src, alt, caption = block
            css = f' class="{figure_class}"' if figure_class else ""
            html.append(
                f"<figure{css}>{lazy_img(src, alt, style)}"
                f"<figcaption>{escape(caption)}</figcaption></figure>"
            )
            text.append(caption)
        elif kind == "table":
            head, *rows = block[1]
            ths = "".join(f"<th>{escape(c)}</th>" for c in head)
            trs = "".join(
                "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows
            )
            html.append(f"<table><thead><tr>{ths}</tr></thead><tbody>{trs}</tbody></table>")
            text.extend(" ".join(row) for row in block[1])
    return "\n".join(html), "\n".join(text)


def hidden_traps(index: int) -> str:
    """Content a reader never sees; it must not reach the feed."""
    traps = [
        '<div style="display: none">Subscribers only: the full story continues in our app.</div>',
        "<p hidden>Advertisement placeholder text for the tracking script.</p>",
        '<span aria-hidden="true">Share this article with your friends and followers</span>',
        '<div style="color:red; visibility:hidden">Screen test paragraph never shown.</div>',
    ]
    return traps[index % len(traps)]


COOKIE = (
    '<div id="cookie-consent" class="cookie-banner" role="dialog"><p>We use cookies to '
    "improve your experience and to show you personalised advertising. By continuing to "
    "browse you agree to our cookie policy.</p><button>Accept all</button><button>Settings"
    "</button></div>"
)
SHARE = (
    '<div class="share-buttons"><span>Share this:</span><ul><li><a href="https://twitter.com/'
    'intent/tweet">Twitter</a></li><li><a href="https://www.facebook.com/sharer.php">Facebook'
    '</a></li><li><a href="mailto:?subject=x">Email</a></li></ul></div>'
)
NEWSLETTER = (
    '<div class="newsletter-signup"><h3>Get our morning briefing</h3><p>The most important '
    "local stories of the day, in your inbox before eight. Free, every weekday.</p><form><input"
    ' type="email" placeholder="Your email"><button>Sign up</button></form></div>'
)
AD = '<div class="ad-slot advert"><span>Advertisement</span><div id="div-gpt-ad-1"></div></div>'


def related(titles: list[str], heading: str = "Related stories") -> str:
    items = "".join(f'<li><a href="/news/{i}/">{escape(t)}</a></li>' for i, t in enumerate(titles))
    return f'<section class="related-posts"><h3>{heading}</h3><ul>{items}</ul></section>'


def comments(names: list[str]) -> str:
    lines = [
        "Thanks for writing about this, I had no idea it was happening in our area.",
        "I disagree with the second part, the numbers from last year tell a different story.",
        "Does anyone know whether this also applies to the northern district?",
    ]
    items = "".join(
        f'<li class="comment"><div class="comment-author">{escape(n)}</div>'
        f'<p>{lines[i % 3]}</p><a class="reply" href="#">Reply</a></li>'
        for i, n in enumerate(names)
    )
    return (
        f'<section id="comments" class="comments-area"><h2>{len(names)} comments</h2>'
        f'<ol class="comment-list">{items}</ol><div id="respond"><h3>Leave a reply</h3>'
        "<form><textarea></textarea><button>Post comment</button></form></div></section>"
    )


OTHER = [
    "Parking fees rise in the city centre",
    "New playground opens in the western park",
    "Museum extends opening hours for the summer",
    "Roadworks on the ring road until March",
    "Local football club promoted after dramatic final",
]


def head(article: dict, index: int, site: str, *, og: bool, ld: bool, meta_author: bool) -> str:
    title, author, date = article["title"], article["author"], article["date"]
    url = f"https://{site}/{article['slug']}/"
    parts = [
        '<meta charset="utf-8">',
        f"<title>{escape(title)} | {escape(site.split('.')[0].title())} News</title>",
        f'<link rel="canonical" href="{url}">',
        '<link rel="stylesheet" href="/assets/main.css">',
        '<script async src="https://www.googletagmanager.com/gtag/js"></script>',
    ]
    if og:
        parts += [
            f'<meta property="og:site_name" content="{escape(site.split(".")[0].title())} News">',
            f'<meta property="og:title" content="{escape(title)}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:url" content="{url}">',
            f'<meta property="article:published_time" content="{date}">',
        ]
    if meta_author:
        parts.append(f'<meta name="author" content="{escape(author)}">')
    if ld:
        data = {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "name": site, "url": f"https://{site}/"},
                {
                    "@type": "NewsArticle" if index % 2 else "BlogPosting",
                    "headline": title,
                    "datePublished": date,
                    "author": [{"@type": "Person", "name": author, "url": f"https://{site}/a/"}],
                    "publisher": {"@type": "Organization", "name": site},
                },
            ],
        }
        parts.append(
            '<script type="application/ld+json">'
            + json.dumps(data, ensure_ascii=False)
            + "</script>"
        )
    return "\n".join(parts)


def page(lang: str, head_html: str, body_html: str, *, rtl: bool = False) -> str:
    direction = ' dir="rtl"' if rtl else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"{direction}>\n<head>\n{head_html}\n</head>\n'
        f"<body>\n{body_html}\n</body>\n</html>\n"
    )


def nav(items: list[str]) -> str:
    links = "".join(f'<li><a href="/{i.lower()}/">{escape(i)}</a></li>' for i in items)
    return f'<nav class="main-menu"><ul>{links}</ul></nav>'


def shape_wordpress(a: dict, i: int) -> str:
    body, _ = render_body(a, i % 4, figure_class="wp-block-image")
    return page(
        "en",
        head(a, i, "citynews.example", og=True, ld=i % 2 == 0, meta_author=False),
        f"""{COOKIE}
<div id="page" class="site"><header id="masthead" class="site-header">
<p class="site-title"><a href="/">Citynews</a></p>{nav(["News", "Transport", "Culture", "Sport"])}
</header>
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main">
<article id="post-{i}" class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{escape(a["title"])}</h1>
<div class="entry-meta"><span class="byline">by <span class="author vcard"><a class="url fn n"
 rel="author" href="/author/x/">{escape(a["author"])}</a></span></span>
<span class="posted-on"><time class="entry-date published" datetime="{a["date"]}">{a["date"][:10]}</time></span></div>
</header>
<div class="entry-content">
{body}
{hidden_traps(i)}
<div class="sharedaddy sd-sharing-enabled">{SHARE}</div>
<div id="jp-relatedposts" class="jp-relatedposts">{related(OTHER[:3], "Related")}</div>
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="/news/">News</a></span>
<span class="tags-links">Tagged <a href="/tag/city/">city</a></span></footer>
</article>
<nav class="navigation post-navigation"><a href="/prev/">Previous post: {escape(OTHER[3])}</a>
<a href="/next/">Next post: {escape(OTHER[4])}</a></nav>
{comments(["Marta", "Oleh", "J. Smith"])}
</main></div>
<aside id="secondary" class="widget-area"><section class="widget"><h2>Recent posts</h2>
<ul>{"".join(f"<li><a href='/r/'>{t}</a></li>" for t in OTHER)}</ul></section>
<section class="widget">{AD}</section></aside></div>
<footer id="colophon" class="site-footer"><p>© 2026 Citynews. Proudly powered by WordPress.</p>
</footer></div>""",
    )


def shape_ghost(a: dict, i: int) -> str:
    body, _ = render_body(a, (i + 1) % 4, figure_class="kg-card kg-image-card kg-card-hascaption")
    return page(
        "en",
        head(a, i, "journal.example", og=True, ld=True, meta_author=i % 2 == 0),
        f"""<div class="viewport"><header id="gh-head" class="gh-head">
<a class="gh-head-logo" href="/">The Journal</a>{nav(["Home", "About", "Archive"])}
<div class="gh-head-actions"><a href="#/portal/signin">Sign in</a><a href="#/portal/signup"
 class="gh-button">Subscribe</a></div></header>
<main id="site-main" class="site-main">
<article class="article post">
<header class="article-header gh-canvas">
<section class="article-tag"><a href="/tag/local/">Local</a></section>
<h1 class="article-title">{escape(a["title"])}</h1>
<div class="article-byline"><div class="article-byline-content"><ul class="author-list">
<li class="author-list-item"><a href="/author/x/" class="author-avatar"><img class="author-profile-image"
 src="/content/images/avatar.jpg" alt="{escape(a["author"])}"></a></li></ul>
<div class="article-byline-meta"><h4 class="author-name"><a href="/author/x/">{escape(a["author"])}</a></h4>
<div class="byline-meta-content"><time class="byline-meta-date" datetime="{a["date"][:10]}">{a["date"][:10]}</time>
<span class="byline-reading-time"><span class="bull">•</span> 4 min read</span></div></div></div></div>
</header>
<section class="gh-content gh-canvas">
{body}
{hidden_traps(i + 1)}
</section>
<section class="article-comments gh-canvas">{comments(["Reader one", "Reader two"])}</section>
</article>
<aside class="read-more-wrap"><div class="read-more inner"><article class="post-card">
<a class="post-card-image-link" href="/x/"><img src="/content/images/x.jpg" alt=""></a>
<h2 class="post-card-title">{escape(OTHER[0])}</h2><p class="post-card-excerpt">A short excerpt
of another story to tempt the reader into clicking.</p></article>
<article class="post-card"><h2 class="post-card-title">{escape(OTHER[1])}</h2>
<p class="post-card-excerpt">Another excerpt of a different story in this publication.</p>
</article></div></aside>
</main>
<section class="footer-cta"><div class="inner"><h2>Sign up for The Journal</h2>
<p>Independent local reporting, delivered to your inbox every Friday.</p>
<a class="footer-cta-button" href="#/portal">Enter your email <span>Subscribe</span></a></div></section>
<footer class="site-footer"><div class="inner"><section class="copyright">The Journal © 2026</section>
<nav class="site-footer-nav"><a href="/privacy/">Privacy</a></nav>
<div>Powered by <a href="https://ghost.org/">Ghost</a></div></div></footer></div>""",
    )


def teaser_cards(count: int) -> str:
    cards = []
    for n in range(count):
        cards.append(
            f'<article class="teaser card"><a href="/story/{n}/"><img src="/thumbs/{n}.jpg" '
            f'alt=""></a><h3><a href="/story/{n}/">{escape(OTHER[n % 5])}</a></h3>'
            f"<p>Short teaser for the story, two lines at most, with a link.</p></article>"
        )
    return "".join(cards)


def shape_news_multi(a: dict, i: int) -> str:
    body, _ = render_body(a, i % 4)
    return page(
        "en",
        head(a, i, "dailycourier.example", og=i % 2 == 0, ld=True, meta_author=False),
        f"""{COOKIE}
<header class="masthead"><div class="logo"><a href="/">The Daily Courier</a></div>
{nav(["Home", "World", "Region", "Business", "Opinion"])}<div class="breaking-news"><strong>Breaking:</strong>
<a href="/b/">Power cut in the northern district</a></div></header>
<div class="page-layout">
<section class="top-stories"><h2>Top stories</h2>{teaser_cards(3)}</section>
<div class="main-column">
<article class="story-full" itemscope itemtype="https://schema.org/NewsArticle">
<h1 itemprop="headline">{escape(a["title"])}</h1>
<div class="story-meta"><span itemprop="author" itemscope itemtype="https://schema.org/Person">By
 <span itemprop="name">{escape(a["author"])}</span></span> |
<time itemprop="datePublished" datetime="{a["date"]}">{a["date"][:10]}</time></div>
<div class="story-tools">{SHARE}<button class="save">Save</button></div>
<div itemprop="articleBody" class="story-body">
{body}
{hidden_traps(i + 2)}
</div>
<div class="story-tags"><a href="/t/1/">Region</a><a href="/t/2/">Weather</a></div>
</article>
{AD}
<section class="more-from-section"><h2>More from Region</h2>{teaser_cards(4)}</section>
</div>
<aside class="sidebar"><h2>Most read</h2><ol>{"".join(f"<li>{t}</li>" for t in OTHER)}</ol>
{NEWSLETTER}</aside></div>
<footer class="site-footer"><p>© The Daily Courier 2026. All rights reserved.</p>
<ul><li><a href="/contact/">Contact</a></li><li><a href="/jobs/">Jobs</a></li></ul></footer>""",
    )


def shape_teasers(a: dict, i: int) -> str:
    body, _ = render_body(a, (i + 2) % 4)
    return page(
        "en",
        head(a, i, "metro.example", og=True, ld=False, meta_author=True),
        f"""<div class="wrapper">{nav(["Latest", "City", "Life", "Video"])}
<main>
<article class="promo"><h2><a href="/promo/">Win tickets to the summer festival</a></h2>
<p>Enter our competition before Friday.</p></article>
{teaser_cards(2)}
<article class="article-page">
<div class="headline-block"><span class="kicker">City</span><h1>{escape(a["title"])}</h1>
<p class="article-author">By <a href="/staff/x/">{escape(a["author"])}</a></p></div>
<div class="article-body">
{body}
{hidden_traps(i + 3)}
{NEWSLETTER}
</div>
<div class="follow-bar">Follow us on <a href="https://x.com/metro">X</a> and
<a href="https://instagram.com/metro">Instagram</a></div>
</article>
{teaser_cards(3)}
</main>
<footer><p>Metro © 2026</p></footer></div>""",
    )


def shape_nosemantic(a: dict, i: int) -> str:
    body, _ = render_body(a, i % 4)
    return page(
        "en",
        head(a, i, "oldportal.example", og=False, ld=True, meta_author=False),
        f"""<div id="wrap"><div class="top"><div class="logo"><a href="/"><img src="/logo.gif"
 alt="Old Portal"></a></div><div class="menu"><a href="/">Home</a> | <a href="/news/">News</a> |
<a href="/weather/">Weather</a> | <a href="/classifieds/">Classifieds</a></div></div>
<div class="cols"><div class="col-left"><div class="box"><div class="box-title">Sections</div>
<div class="box-body"><a href="/a/">Politics</a><br><a href="/b/">Economy</a><br><a href="/c/">Sport</a>
</div></div></div>
<div class="col-main"><div class="crumbs"><a href="/">Home</a> &gt; <a href="/news/">News</a></div>
<div class="story"><div class="story-title"><h1>{escape(a["title"])}</h1></div>
<div class="story-date">{a["date"][:10]}</div>
<div class="story-text">
{body}
{hidden_traps(i)}
</div>
<div class="story-share">{SHARE}</div>
<div class="story-related"><b>See also:</b><br>{"<br>".join(f'<a href="/n/">{t}</a>' for t in OTHER[:4])}</div>
</div></div>
<div class="col-right"><div class="box"><div class="box-title">Most popular</div><div class="box-body">
{"<br>".join(OTHER)}</div></div>{AD}</div></div>
<div class="bottom">Copyright 2003-2026 Old Portal. Reproduction prohibited.</div></div>""",
    )


def shape_medium(a: dict, i: int) -> str:
    body, _ = render_body(a, (i + 3) % 4)
    blocks = body.replace("<p>", '<p class="pw-post-body-paragraph">')
    return page(
        "en",
        head(a, i, "medium.example", og=True, ld=True, meta_author=True),
        f"""<div id="root"><div class="a b c"><div class="metabar"><a href="/">Medium</a>
<a href="/m/signin">Sign in</a><a href="/new-story">Write</a></div>
<div class="d e"><div class="f g"><article><div class="h i"><section><div class="j k"><div>
<h1 class="pw-post-title">{escape(a["title"])}</h1>
<div class="l m"><a href="/@someone" rel="noopener">{escape(a["author"])}</a>
<button class="follow">Follow</button><span>6 min read</span><span>·</span><span>{a["date"][:10]}</span></div>
<div class="claps-bar"><button aria-label="clap">128</button><button>Share</button></div>
{blocks}
{hidden_traps(i + 1)}
</div></div></section></div></article>
<div class="n o"><h2>More from {escape(a["author"])}</h2>
<div><h3>{escape(OTHER[2])}</h3><p>A story from the same author that you might like.</p></div>
<div><h3>{escape(OTHER[3])}</h3><p>Another recommended story from the same author.</p></div></div>
<div class="p q"><h2>Recommended from Medium</h2><div><h3>{escape(OTHER[4])}</h3></div></div>
</div></div></div></div>""",
    )


def shape_substack(a: dict, i: int) -> str:
    body, _ = render_body(a, i % 4)
    return page(
        "en",
        head(a, i, "letters.example", og=True, ld=i % 2 == 1, meta_author=True),
        f"""<div class="main-menu"><a class="navbar-title" href="/">Local Letters</a>
<a href="/subscribe" class="button primary">Subscribe</a><a href="/account">Sign in</a></div>
<div class="single-post-container"><div class="container"><div class="single-post">
<div class="post-header"><h1 class="post-title unpublished">{escape(a["title"])}</h1>
<h3 class="subtitle">A weekly letter about the city and the people who run it</h3>
<div class="post-meta"><div class="profile-hover-card-target"><a href="/profile/x">{escape(a["author"])}</a></div>
<div class="post-date">{a["date"][:10]}</div></div>
<div class="post-ufi"><a href="#">12</a><a href="#comments">3</a><a href="#share">Share</a></div></div>
<div class="available-content"><div class="body markup" dir="auto">
{body}
{hidden_traps(i + 2)}
<div class="subscription-widget-wrap"><div class="subscription-widget"><div class="preamble">
<p>Thanks for reading Local Letters! Subscribe for free to receive new posts and support my work.</p>
</div><form><input type="email" placeholder="Type your email..."><button>Subscribe</button></form>
</div></div>
</div></div>
<div class="post-footer"><a href="#">Share</a><a href="#">Like</a></div>
{comments(["anna", "Bohdan K."])}
</div></div></div>
<div class="footer-wrap"><div>© 2026 Local Letters · Privacy · Terms</div>
<div>Substack is the home for great culture</div></div>""",
    )


def shape_docs(a: dict, i: int) -> str:
    body, _ = render_body(a, i % 4)
    toc = "".join(
        f'<li><a href="#s{n}">{escape(b[1])}</a></li>'
        for n, b in enumerate(a["blocks"])
        if b[0] == "h2"
    )
    return page(
        "en",
        head(a, i, "devnotes.example", og=True, ld=True, meta_author=True),
        f"""<header class="site-nav"><a href="/" class="brand">devnotes</a>{nav(["Posts", "Tags", "About", "RSS"])}
<button class="theme-toggle" aria-label="Toggle dark mode">◐</button></header>
<div class="layout"><nav class="toc" aria-label="Table of contents"><h2>On this page</h2><ul>{toc}</ul></nav>
<main class="content"><article class="post h-entry">
<header><h1 class="p-name">{escape(a["title"])}</h1><p class="meta"><span class="p-author h-card">{escape(a["author"])}</span>
· <time class="dt-published" datetime="{a["date"]}">{a["date"][:10]}</time> · 6 min</p></header>
<div class="e-content">
{body}
{hidden_traps(i + 3)}
</div>
<footer class="post-footer"><p>Tags: <a href="/tags/x/">databases</a></p>
<p>Found a mistake? <a href="https://github.com/x/y/edit/main/post.md">Edit this page</a>.</p>
<nav class="pager"><a href="/prev/">← Older</a><a href="/next/">Newer →</a></nav></footer>
</article></main></div>
<footer class="site-footer"><p>Content licensed CC BY 4.0</p></footer>""",
    )


def shape_rtl(a: dict, i: int, lang: str) -> str:
    body, _ = render_body(a, i % 4)
    if lang == "ar":
        menu, site, more, share = (
            ["الرئيسية", "أخبار", "اقتصاد", "رياضة"],
            "الأخبار اليوم",
            "اقرأ أيضاً",
            "شارك المقال",
        )
        cookie = "نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا."
        by = "بقلم"
    else:
        menu, site, more, share = (
            ["ראשי", "חדשות", "כלכלה", "ספורט"],
            "חדשות היום",
            "כתבות נוספות",
            "שתפו את הכתבה",
        )
        cookie = "אנו משתמשים בעוגיות כדי לשפר את חוויית הגלישה שלכם באתר."
        by = "מאת"
    return page(
        lang,
        head(a, i, "today.example", og=True, ld=i % 2 == 0, meta_author=False),
        f"""<div class="cookie-notice" id="cookie-notice"><p>{cookie}</p><button>موافق / אישור</button></div>
<header><div class="logo"><a href="/">{site}</a></div>{nav(menu)}</header>
<main><div class="article-wrapper"><article class="main-article">
<h1>{escape(a["title"])}</h1>
<div class="byline"><span class="author-name">{by} {escape(a["author"])}</span>
<time datetime="{a["date"]}">{a["date"][:10]}</time></div>
<div class="share-bar"><span>{share}</span><a href="https://facebook.com/share">Facebook</a>
<a href="https://wa.me/">WhatsApp</a></div>
<div class="article-content">
{body}
{hidden_traps(i)}
</div>
</article>
<section class="related-articles"><h2>{more}</h2><ul>
<li><a href="/1/">{escape(a["title"][:20])} …</a></li><li><a href="/2/">{site} — {more}</a></li></ul></section>
</div></main>
<footer><p>© 2026 {site}</p></footer>""",
        rtl=True,
    )


def shape_uk(a: dict, i: int) -> str:
    body, _ = render_body(a, (i + 1) % 4)
    return page(
        "uk",
        head(a, i, "misto.example", og=True, ld=True, meta_author=i % 3 == 0),
        f"""<div class="cookies">Ми використовуємо файли cookie, щоб покращити роботу сайту.
<button>Зрозуміло</button></div>
<header class="header">{nav(["Новини", "Політика", "Економіка", "Культура", "Спорт"])}
<form class="search"><input placeholder="Пошук"></form></header>
<div class="container"><div class="row">
<div class="col-8"><div class="news-feed-mini"><h3>Останні новини</h3><ul>
<li><a href="/n1/">10:45 Синоптики попередили про сильний вітер</a></li>
<li><a href="/n2/">10:30 У центрі міста обмежать рух через ремонт</a></li>
<li><a href="/n3/">10:12 Відкрито реєстрацію на міський марафон</a></li></ul></div>
<div class="post" itemscope itemtype="https://schema.org/NewsArticle">
<h1 class="post-title">{escape(a["title"])}</h1>
<div class="post-info"><span class="post-author" itemprop="author">{escape(a["author"])}</span>,
<span class="post-date">{a["date"][:10]}</span></div>
<div class="post-text">
{body}
{hidden_traps(i + 1)}
<p class="subscribe-telegram">Підписуйтесь на наш <a href="https://t.me/misto">Telegram-канал</a>, щоб першими дізнаватися новини.</p>
</div>
<div class="share">Поділитися: <a href="#">Facebook</a> <a href="#">Telegram</a> <a href="#">Viber</a></div>
<div class="read-also"><h3>Читайте також</h3><ul><li><a href="/r1/">Мерія оголосила конкурс проєктів</a></li>
<li><a href="/r2/">У парку висадять сто нових дерев</a></li></ul></div>
</div></div>
<div class="col-4 sidebar">{AD}<h3>Популярне</h3><ul><li>Графік відключень світла</li>
<li>Розклад руху автобусів</li></ul></div></div></div>
<footer><p>© 2026 Місто. Усі права захищені. При використанні матеріалів посилання обов'язкове.</p></footer>""",
    )


def shape_hugo(a: dict, i: int) -> str:
    body, _ = render_body(a, i % 4)
    return page(
        "en",
        head(a, i, "jonas.example", og=i % 2 == 0, ld=False, meta_author=True),
        f"""<header><nav><a href="/">home</a> <a href="/posts/">posts</a> <a href="/index.xml">rss</a></nav></header>
<main><article>
<h1>{escape(a["title"])}</h1>
<p class="post-meta"><time datetime="{a["date"]}">{a["date"][:10]}</time></p>
{body}
{hidden_traps(i + 2)}
</article>
<nav class="post-nav"><a href="/posts/older/">← {escape(OTHER[1])}</a> <a href="/posts/newer/">{escape(OTHER[2])} →</a></nav>
</main>
<footer><p>Written by a human. Built with Hugo.</p></footer>""",
    )


def shape_stream(a: dict, i: int, others: list[dict]) -> str:
    """An article page that loads the next stories below it (infinite scroll)."""
    body, _ = render_body(a, i % 4)
    following = []
    for other in others:
        other_body, _ = render_body(other, 0)
        following.append(
            f'<article class="story next-story" data-url="/{other["slug"]}/">'
            f'<div class="next-label">Next story</div><h1>{escape(other["title"])}</h1>'
            f'<p class="byline">By {escape(other["author"])}</p>{other_body}</article>'
        )
    return page(
        "en",
        head(a, i, "alpine.example", og=True, ld=True, meta_author=False),
        f"""{COOKIE}<header>{nav(["News", "Roads", "Weather", "Mountains"])}</header>
<div id="stream"><article class="story current">
<h1>{escape(a["title"])}</h1><p class="byline">By {escape(a["author"])}</p>
<div class="story-body">{body}</div>
</article>
{"".join(following)}</div>
<footer>Alpine Daily</footer>""",
    )


def main() -> None:
    articles = read_articles()
    by_slug = {a["slug"]: a for a in articles}
    for index, a in enumerate(articles):
        shape = a["shape"]
        if shape == "stream":
            html = shape_stream(a, index, [by_slug["tram-night-service"], by_slug["water-prices"]])
        elif shape in ("rtl-ar", "rtl-he"):
            html = shape_rtl(a, index, shape[-2:])
        else:
            html = {
                "wordpress": shape_wordpress,
                "ghost": shape_ghost,
                "news-multi": shape_news_multi,
                "teasers": shape_teasers,
                "nosemantic": shape_nosemantic,
                "medium": shape_medium,
                "substack": shape_substack,
                "docs": shape_docs,
                "uk-news": shape_uk,
                "hugo": shape_hugo,
            }[shape](a, index)
        _, text = render_body(a, 0)
        (HERE / f"{a['slug']}.html").write_text(html, encoding="utf-8")
        truth = {"title": a["title"], "byline": a["author"], "text": text, "shape": shape}
        (HERE / f"{a['slug']}.json").write_text(
            json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
