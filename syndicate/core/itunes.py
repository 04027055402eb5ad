"""Apple Podcasts' category list and the checks a podcast feed's settings must pass.

Apple rejects a feed whose ``itunes:category`` is not one of its categories (or a
subcategory of the category it sits in), and shows only square JPEG or PNG artwork;
config validation uses these so the mistake is reported at ``syndicate check``, not by
a podcast directory weeks later. The list is Apple's current one (the 2019 revision;
feedgen's built-in list predates it).
"""

from __future__ import annotations

from urllib.parse import urlsplit

CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": (
        "Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"
    ),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": (
        "Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"
    ),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
        "Home & Garden", "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News", "Daily News", "Entertainment News", "News Commentary", "Politics",
        "Sports News", "Tech News",
    ),
    "Religion & Spirituality": (
        "Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"
    ),
    "Science": (
        "Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
        "Natural Sciences", "Nature", "Physics", "Social Sciences",
    ),
    "Society & Culture": (
        "Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"
    ),
    "Sports": (
        "Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey",
        "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness",
        "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}  # fmt: skip
ARTWORK_SUFFIXES = (".jpg", ".jpeg", ".png")


def parse_category(value: str) -> tuple[str, str | None]:
    """``"News"`` or ``"News > Daily News"`` as (category, subcategory), exactly as Apple
    spells them; ValueError lists the valid choices."""
    main, _, sub = (part.strip() for part in value.partition(">"))
    if main not in CATEGORIES:
        raise ValueError(
            f"{main!r} is not an Apple Podcasts category; one of: {', '.join(CATEGORIES)}"
        )
    if not sub:
        return main, None
    if sub not in CATEGORIES[main]:
        allowed = ", ".join(CATEGORIES[main]) or "none"
        raise ValueError(f"{sub!r} is not a subcategory of {main!r}; its subcategories: {allowed}")
    return main, sub


def check_artwork(value: str) -> str:
    """Artwork must be a JPEG or PNG file (Apple's rule), named by an http(s) URL or a
    site-relative path."""
    parts = urlsplit(value.strip())
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise ValueError(f"{value!r} is not an http(s) URL or a path on the site")
    if not parts.path.lower().endswith(ARTWORK_SUFFIXES):
        raise ValueError(f"{value!r} must be a .jpg or .png image (Apple's artwork rule)")
    return value.strip()
