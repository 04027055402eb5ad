"""Article import: plain text, Markdown with front matter, HTML and CMS exports -> the store.

walk        folders -> article files and exports (project folders, .syndicateignore left out)
reading     path -> decoded text (size, binary, encoding checks); format detection
frontmatter YAML/TOML front matter -> article fields
plaintext   text structure -> HTML (title, byline, epigraph, headings, lists, quotes)
markdown    CommonMark + tables + footnotes
html        web pages and fragments -> ParsedArticle (parse_html_page)
metadata    a page's title, byline, dates, summary, image, tags, canonical URL, base
prepare     hidden content, lazy images, markup the engine loses, page URLs
extract     trafilatura finds the article body; captions, code languages, lead image
sitegen     Hugo page bundles and Jekyll _posts conventions
exports     many articles in one file or folder; registry: wxr, ghost, substack
store       identity (source, id, content hash), sanitising, insert/update
pipeline    import_paths: one transaction per file, a report per file
"""

from __future__ import annotations

from syndicate.intake.importers.model import ParsedArticle, slugify
from syndicate.intake.importers.pipeline import format_name, import_paths, parse_file
from syndicate.intake.importers.reading import EXTENSIONS, MAX_FILE_BYTES
from syndicate.intake.importers.report import STATUSES, FileOutcome, ImportReport
from syndicate.intake.importers.walk import collect_files

__all__ = [
    "EXTENSIONS",
    "MAX_FILE_BYTES",
    "STATUSES",
    "FileOutcome",
    "ImportReport",
    "ParsedArticle",
    "collect_files",
    "format_name",
    "import_paths",
    "parse_file",
    "slugify",
]
