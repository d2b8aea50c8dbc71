"""What a director receives of an evidence file: nothing that names the auditor.

Images already lose their metadata at upload (audit/evidence.py). What is left is the file's
name, which the auditor chose (phones put the owner's name in it), and text: an e-mail carries
the auditor's address in its headers, their IP in `Received:`, a `Message-ID` their mail
server made, and, quoted below the reply, the auditor's own message and signature.

So a director gets a neutral name (`dowod-2.jpg`), and an e-mail reduced to the
institution's message (sender, date, subject, body without quoted history), with every name
and address we know of the auditor masked. The stored original is what organisers and the
auditor get. No Flask here: the view passes the auditor's identity and the mask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Protocol

NEUTRAL_STEM = "dowod"  # one name in every language, so a director citing it in an appeal is understood


class RedactionError(ValueError):
    """An e-mail a director cannot be given; `code` says why: "own_message" or "unreadable"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class AuditorIdentity:
    """What we know of an auditor, to be masked wherever it appears: names and e-mail addresses."""

    names: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    def merged(self, names: Iterable[str] = (), addresses: Iterable[str] = ()) -> AuditorIdentity:
        return AuditorIdentity(_unique((*self.names, *names)), _unique((*self.addresses, *addresses)))


@dataclass(frozen=True)
class InstitutionMessage:
    """The institution's e-mail as a director may read it."""

    sender: str
    date: str
    subject: str
    body: str


class StoredFile(Protocol):
    """What naming needs of an evidence row."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def storage_key(self) -> str: ...


def director_suffix(kind: str, storage_key: str) -> str:
    """The extension of what a director receives: an image as stored, any text or e-mail as plain text."""
    if kind == "image" and "." in storage_key:
        return storage_key[storage_key.rindex("."):].lower()
    return ".txt"


def director_names(files: Iterable[StoredFile]) -> dict[int, str]:
    """Evidence id -> `dowod-<n><suffix>`, n counting the contact's files in their order (by id) from 1.

    Only the position within the contact: the original name is the auditor's choice and phones
    put the owner's name in it.
    """
    ordered = sorted(files, key=lambda f: f.id)
    return {f.id: f"{NEUTRAL_STEM}-{n}{director_suffix(f.kind, f.storage_key)}" for n, f in enumerate(ordered, start=1)}


def is_email(kind: str, original_name: str, data: bytes) -> bool:
    """Whether a text file is an e-mail: kept as one, named .eml, or a .txt that starts with mail headers."""
    if kind == "email" or original_name.lower().endswith(".eml"):
        return True
    head = data[:8192].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", errors="replace")
    lines = head.split("\n")
    names = {line.partition(":")[0].strip().lower() for line in lines if _HEADER_LINE.match(line)}
    return bool(lines) and _HEADER_LINE.match(lines[0]) is not None and "from" in names and bool(
        names & {"date", "subject", "received", "message-id", "to"})


_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,60}:")


# --- masking ----------------------------------------------------------------------------------

_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]"
# starts only where a local part can start: without the look-behind a long word costs quadratic time
_ADDRESS = re.compile(rf"(?<!{_LOCAL}){_LOCAL}+@[\w-]+(?:\.[\w-]+)+")
_VOWELS = "aeiouyąęó"


def mask(text: str, auditor: AuditorIdentity, placeholder: str) -> str:
    """Replace the auditor's addresses and names, as they are declined in Polish, by the placeholder.

    A name matches as a word made of its stem (the name without its final vowels) and up to four
    more letters: "Jan" also masks "Janie" and "Jana", "Kowalska" masks "Kowalskiej". That masks
    a few other words too ("Janusz"); for an auditor's anonymity that is the right side to err on.
    """
    known = {a.lower() for a in auditor.addresses if "@" in a}
    text = _ADDRESS.sub(lambda m: placeholder if m.group(0).lower() in known else m.group(0), text)
    odd = [a for a in known if not _ADDRESS.fullmatch(a)]  # addresses the pattern above does not see
    for address in sorted(odd, key=len, reverse=True):
        text = re.sub(re.escape(address), placeholder, text, flags=re.IGNORECASE)
    stems = sorted({s for name in auditor.names for s in _stems(name)}, key=len, reverse=True)
    if stems:
        words = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, stems)) + r")\w{0,4}(?!\w)", re.IGNORECASE)
        text = words.sub(placeholder, text)
    # "Jan Kowalski" is one person: one placeholder, not two
    return re.sub(rf"{re.escape(placeholder)}(?:[ \t]+{re.escape(placeholder)})+", placeholder, text)


def _stems(name: str) -> list[str]:
    stems = []
    for word in re.findall(r"[^\W\d_]+", name):
        if len(word) < 3:
            continue  # initials and particles: masking them would mask every "a" and "z"
        stem = word.rstrip(_VOWELS + _VOWELS.upper())
        stems.append(stem if len(stem) >= 2 else word)
    return stems


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


# --- e-mail ---------------------------------------------------------------------------------

# Where quoted history starts: everything from such a line on is the auditor's earlier message.
_HISTORY = re.compile("|".join((
    r"^-{2,}\s*(?:original message|wiadomość oryginalna|oryginalna wiadomość|forwarded message"
    r"|wiadomość przekazana|przekazana wiadomość)\s*-{2,}\s*$",
    r"^_{10,}\s*$",  # Outlook's rule above the quoted message
    r"^.*(?:wrote|pisze|napisał\(a\)|napisała|napisał|napisal\(a\)|napisala|napisal)\s*:\s*$",  # "On … wrote:"
    r"^(?:from|od):\s.+$(?=\n(?:.*\n){0,2}(?:sent|wysłano|date|data):)",  # Outlook's quoted header block
)), re.IGNORECASE | re.MULTILINE)
_ATTRIBUTION_OPENING = re.compile(r"(?:on|w dniu|dnia)\s", re.IGNORECASE)
# Inline forwards: the forwarded message's own header block, in the labels mail programs use
_FORWARD = re.compile(r"^-{2,}\s*(?:forwarded message|wiadomość przekazana|przekazana wiadomość)\s*-{2,}\s*$",
                      re.IGNORECASE | re.MULTILINE)
_FORWARD_LABELS = {"od": "From", "from": "From", "data": "Date", "date": "Date", "wysłano": "Date", "sent": "Date",
                   "temat": "Subject", "subject": "Subject", "do": "To", "to": "To", "dw": "Cc", "cc": "Cc",
                   "kopia": "Cc"}
MAX_RECIPIENTS = 100
MAX_HEADER_CHARS = 8000  # a From, To or Subject longer than this is no institution's reply
# Headers that name the auditor as a recipient of the institution's message
_RECIPIENT_HEADERS = ("To", "Cc", "Bcc", "Delivered-To", "X-Original-To", "Envelope-To", "Resent-To")


def institution_message(raw: bytes, auditor: AuditorIdentity, placeholder: str) -> InstitutionMessage:
    """The institution's message in an .eml, reduced to its sender, date, subject and body, masked.

    Routing and identifying headers (Received, Message-ID, References, To, Cc, X-…) are not
    carried over at all; quoted history is cut; the recipients' names and addresses join what is
    masked. When the file is the auditor's own message, the institution's message is looked for
    as an attached or inline-forwarded message; if there is none, RedactionError("own_message"):
    the auditor's own words, signature and time would identify them, so a director gets none of
    it. A file that is not an e-mail at all raises RedactionError("unreadable").
    """
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        return _reduce(message, auditor, placeholder, depth=0)
    except RedactionError:
        raise
    except Exception:  # hostile or broken input must give a refusal, never a 500
        raise RedactionError("unreadable") from None


def _reduce(message: Message, auditor: AuditorIdentity, placeholder: str, depth: int) -> InstitutionMessage:
    read = {h.lower() for h in ("From", "Date", "Subject", *_RECIPIENT_HEADERS)}
    if any(name.lower() in read and len(str(value)) > MAX_HEADER_CHARS for name, value in message.raw_items()):
        raise RedactionError("unreadable")  # the stdlib's header parser takes quadratic time on such a header
    senders = getaddresses([str(v) for v in message.get_all("From", [])])
    if not senders or not any(addr or name for name, addr in senders) or depth > 3:
        raise RedactionError("unreadable")
    if _is_auditor(senders, auditor):
        auditor = auditor.merged([n for n, _a in senders], [a for _n, a in senders])
        inner = _forwarded(message)
        if inner is None:
            raise RedactionError("own_message")
        return _reduce(inner, _with_recipients(message, auditor), placeholder, depth + 1)
    auditor = _with_recipients(message, auditor)
    body = _cut_history(_body_text(message))
    sender = ", ".join(str(Address(display_name=n, addr_spec=a)) if _valid(a) else (n or a) for n, a in senders)
    return InstitutionMessage(
        sender=mask(sender, auditor, placeholder),
        date=_one_line(str(message.get("Date", ""))),
        subject=mask(_one_line(str(message.get("Subject", ""))), auditor, placeholder),
        body=mask(body, auditor, placeholder))


def _is_auditor(senders: Sequence[tuple[str, str]], auditor: AuditorIdentity) -> bool:
    addresses = {a.lower() for a in auditor.addresses}
    names = {_folded(n) for n in auditor.names}
    return any(addr.lower() in addresses or (name and _folded(name) in names) for name, addr in senders)


def _with_recipients(message: Message, auditor: AuditorIdentity) -> AuditorIdentity:
    recipients = getaddresses([str(v) for h in _RECIPIENT_HEADERS for v in message.get_all(h, [])])
    if len(recipients) > MAX_RECIPIENTS:  # not a reply to one auditor; and masking each would cost too much
        raise RedactionError("unreadable")
    return auditor.merged([n for n, _a in recipients], [a for _n, a in recipients])


def _forwarded(message: Message) -> Message | None:
    """The message the auditor forwarded: attached as message/rfc822, or inline below a forward rule."""
    for part in message.walk():
        if part.get_content_type() == "message/rfc822" and part.is_multipart():
            inner = part.get_payload(0)
            return inner if isinstance(inner, Message) else None
    text = _body_text(message)
    found = _FORWARD.search(text)
    if found is None:
        return None
    head, _sep, body = text[found.end():].lstrip("\n").partition("\n\n")
    lines = []
    for line in head.splitlines():
        label, colon, value = line.partition(":")
        if colon and label.strip().lower() in _FORWARD_LABELS:
            lines.append(f"{_FORWARD_LABELS[label.strip().lower()]}: {value.strip()}")
    if not any(line.startswith("From:") for line in lines):
        return None
    inner = EmailMessage()
    for line in lines:
        name, _colon, value = line.partition(": ")
        inner[name] = value
    inner.set_content(body)
    return inner


def _body_text(message: Message) -> str:
    """The message's text: its text/plain part, else its HTML part turned into text; never an attachment."""
    part = message.get_body(("plain", "html")) if isinstance(message, EmailMessage) else None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return content.replace("\r\n", "\n").replace("\r", "\n")


def _cut_history(body: str) -> str:
    """The body without quoted lines (">") and without everything from a history marker on."""
    found = _HISTORY.search(body)
    if found is not None:
        body = body[:found.start()]
        kept = body.rstrip("\n").split("\n")
        if kept and _attribution_start(kept[-1]):
            body = "\n".join(kept[:-1])
    lines = [line for line in body.split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip("\n") + "\n"


def _attribution_start(line: str) -> bool:
    """The first half of an attribution wrapped before "wrote:": "On Wed, 15 Oct 2026, Jan <jan@…"."""
    dated = any(ch.isdigit() for ch in line)
    return dated and (_ATTRIBUTION_OPENING.match(line) is not None or "<" in line or "@" in line)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _folded(name: str) -> str:
    return " ".join(name.casefold().split())


def _valid(address: str) -> bool:
    return bool(address) and "@" in address and "\n" not in address


class _TextOfHtml(HTMLParser):
    """Visible text of an HTML body: no scripts, styles or quoted blocks; a line per block element."""

    BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr"})
    HIDDEN = frozenset({"script", "style", "head", "title", "blockquote", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML e-mail body (served as text/plain, so nothing in it can run)."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def plain_text(text: str, auditor: AuditorIdentity, placeholder: str) -> str:
    """A .txt evidence file for a director: the auditor's known names and addresses masked."""
    return mask(text, auditor, placeholder)
