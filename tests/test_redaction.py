"""What a director receives of an evidence file: pure functions, no app, no database."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from audit import redaction

AUDITOR = redaction.AuditorIdentity(("Jan Kowalski",), ("jan.kowalski@example.com",))
MASK = "[A-03]"

# The institution's reply as the auditor's mail program saved it: routing, the auditor's mailbox
# in To, a colleague in Cc, encoded headers, and the auditor's own message quoted below.
REPLY = b"""Return-Path: <sekretariat@um-lipno.pl>
Delivered-To: jan.k.1985@poczta.example
Received: from mail.um-lipno.pl (mail.um-lipno.pl [203.0.113.7])
\tby mx.poczta.example (Postfix) with ESMTPS id 4F2; Thu, 15 Oct 2026 10:20:01 +0200
Received: from [198.51.100.23] (host-198-51-100-23.example.net [198.51.100.23]) by mail.um-lipno.pl
Message-ID: <CAF1234567@mail.um-lipno.pl>
In-Reply-To: <CAB98765@poczta.example>
References: <CAB98765@poczta.example>
From: =?utf-8?q?Sekretariat_Urz=C4=99du?= <sekretariat@um-lipno.pl>
To: =?utf-8?q?Janek_Shopper?= <jan.k.1985@poczta.example>
Cc: Marta Zielonka <marta.z@poczta.example>
Reply-To: sekretariat@um-lipno.pl
Date: Thu, 15 Oct 2026 10:20:00 +0200
Subject: =?utf-8?q?Re:_Pytanie_o_godziny_otwarcia_urz=C4=99du?=
X-Mailer: Thunderbird 128
X-Originating-IP: [198.51.100.23]
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Szanowny Panie Janku,

urz=C4=85d jest czynny od 8 do 16. Pozdrawiamy, Sekretariat.

W dniu 14.10.2026 o 09:00, Janek Shopper <jan.k.1985@poczta.example> pisze:
> Dzie=C5=84 dobry, w jakich godzinach pracuje urz=C4=85d?
> --
> Jan Kowalski, tel. 600 100 200
--b1
Content-Type: text/html; charset=utf-8

<p>Szanowny Panie Janku,</p><p>urz=C4=85d jest czynny</p>
--b1--
"""
SECRETS = ("Kowalski", "Janku", "Janek", "jan.k.1985", "poczta.example", "198.51.100.23", "203.0.113.7",
           "CAF1234567", "CAB98765", "Marta", "Thunderbird", "600 100 200", "pracuje")


def reduced(raw: bytes) -> redaction.InstitutionMessage:
    return redaction.institution_message(raw, AUDITOR, MASK)


def everything(message: redaction.InstitutionMessage) -> str:
    return "\n".join((message.sender, message.date, message.subject, message.body))


def test_a_reply_keeps_what_the_institution_wrote_and_nothing_of_the_auditor():
    message = reduced(REPLY)
    assert message.sender == "Sekretariat Urzędu <sekretariat@um-lipno.pl>"
    assert message.subject == "Re: Pytanie o godziny otwarcia urzędu"
    assert message.date == "Thu, 15 Oct 2026 10:20:00 +0200"
    assert message.body == "Szanowny Panie [A-03],\n\nurząd jest czynny od 8 do 16. Pozdrawiamy, Sekretariat.\n"
    for secret in SECRETS:
        assert secret not in everything(message)


@pytest.mark.parametrize("history", [
    "On Wed, 14 Oct 2026 at 09:00, Jan Kowalski <jan.kowalski@example.com> wrote:\nDzień dobry, pytanie",
    "On Wed, 14 Oct 2026 at 09:00, Jan Kowalski <\njan.kowalski@example.com> wrote:\nDzień dobry, pytanie",
    "śr., 14 paź 2026 o 09:00 Jan Kowalski <jan.kowalski@example.com>\nnapisał(a):\nDzień dobry, pytanie",
    "-----Original Message-----\nFrom: Jan\nSent: Wednesday\nDzień dobry, pytanie",
    "-----Wiadomość oryginalna-----\nOd: Jan\nWysłano: środa\nDzień dobry, pytanie",
    "________________________________\nOd: Jan\nWysłano: środa\nDzień dobry, pytanie",
    "Od: Jan <jan.kowalski@example.com>\nWysłano: środa, 14 października 2026 09:00\nDo: Urząd\nDzień dobry, pytanie",
])
def test_quoted_history_is_cut_in_the_forms_mail_programs_write_it(history):
    raw = ("From: Urząd <urzad@gmina.example>\nTo: x@y.example\nSubject: Re: pytanie\n"
           "Content-Type: text/plain; charset=utf-8\n\nOdpowiadamy: tak.\n\n" + history + "\n").encode()
    message = reduced(raw)
    assert message.body == "Odpowiadamy: tak.\n"


def test_names_are_masked_as_polish_declines_them_and_known_addresses_anywhere():
    text = "Panie Janie, pan Kowalski i pani Kowalska (kowalskiej), JAN.KOWALSKI@EXAMPLE.COM; Janina też."
    masked = redaction.mask(text, redaction.AuditorIdentity(("Jan Kowalski", "Anna Kowalska"),
                                                            ("jan.kowalski@example.com",)), MASK)
    assert masked == "Panie [A-03], pan [A-03] i pani [A-03] ([A-03]), [A-03]; [A-03] też."
    assert redaction.mask("Ala ma kota, a Jo pisze.", redaction.AuditorIdentity(("Jo A",)), MASK) == \
        "Ala ma kota, a Jo pisze."  # names under three letters are not masked: they would mask every "a"


def test_an_html_only_reply_in_a_polish_charset_is_turned_into_text_without_its_scripts_or_quotes():
    raw = (b"From: UM <um@gmina.example>\nTo: Jan <jan.k.1985@poczta.example>\nSubject: Re\n"
           b"Content-Type: text/html; charset=iso-8859-2\nContent-Transfer-Encoding: 8bit\n\n"
           b"<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
           b"<p>Dzie\xf1 dobry&nbsp;Janie,</p><p>zapraszamy<br>od 8.</p><div class='gmail_quote'>"
           b"<blockquote>Jan Kowalski, tel. 600 100 200</blockquote></div></body></html>\n")
    message = reduced(raw)
    assert message.body == "Dzień dobry [A-03],\n\nzapraszamy\nod 8.\n"


def test_the_auditors_own_message_is_not_given_to_a_director():
    raw = b"From: Jan Kowalski <jan.k.1985@poczta.example>\nTo: urzad@gmina.example\nSubject: pytanie\n\nDzien dobry\n"
    with pytest.raises(redaction.RedactionError) as refused:
        reduced(raw)
    assert refused.value.code == "own_message"


def test_a_forwarded_reply_gives_the_institutions_message_inline_or_attached():
    inline = """From: Jan Kowalski <jan.kowalski@example.com>
To: jan.k.1985@poczta.example
Subject: Fwd: Re: pytanie
Content-Type: text/plain; charset=utf-8

---------- Forwarded message ---------
Od: Sekretariat <sekretariat@um-lipno.pl>
Date: czw., 15 paź 2026 o 10:20
Subject: Re: pytanie
To: Janek Shopper <jan.k.1985@poczta.example>


Czynne 8-16, Panie Janku.

śr., 14 paź 2026 o 09:00 Janek Shopper <jan.k.1985@poczta.example> napisał(a):
> pytanie
""".encode()
    message = reduced(inline)
    assert (message.sender, message.subject) == ("Sekretariat <sekretariat@um-lipno.pl>", "Re: pytanie")
    assert message.body == "Czynne 8-16, Panie [A-03].\n"
    attached = (b"From: Jan Kowalski <jan.kowalski@example.com>\nSubject: Fwd\nMIME-Version: 1.0\n"
                b'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain\n\nPatrz nizej.\n'
                b"--m\nContent-Type: message/rfc822\n\n" + REPLY + b"\n--m--\n")
    message = reduced(attached)
    assert message.sender == "Sekretariat Urzędu <sekretariat@um-lipno.pl>" and "czynny od 8 do 16" in message.body
    for secret in SECRETS:
        assert secret not in everything(message)


@pytest.mark.parametrize("raw", [
    b"",
    b"\xff\xfe\x00garbage",
    b"just some words, no headers at all",
    b"Subject: no sender\n\nbody",
    b"From: \nSubject: empty sender\n\nbody",
    b"From: =?utf-8?b?!!!not base64?= <a@b.example>\nSubject: =?x-unknown?q?abc?=\n\nbody",
    b"From: a@b.example\nContent-Type: text/plain; charset=x-no-such-charset\n\n\xe9t\xe9",
    b"From: a@b.example\nContent-Type: multipart/mixed; boundary=\"never\"\n\nno parts at all",
    b"From: a@b.example\nContent-Transfer-Encoding: base64\n\n!!!!not base64",
    b"From: " + b"x" * 100_000 + b"\n\nbody",
    b"From: a@b.example\nTo: " + b"x@y.example, " * 100_000 + b"\n\nbody",  # quadratic in the stdlib's parser
    b"From: a@b.example\nTo: " + b", ".join(b"x%d@y.example" % i for i in range(200)) + b"\n\nbody",
    b"From: a@b.example\n\n" + b"1" * 500_000 + b"\nwrote:\n" + b"a.b-c" * 100_000,
])
def test_broken_input_gives_a_refusal_or_a_message_never_another_error(raw):
    """And quickly: a huge header or body is no way to stall a worker (the bound is loose, for slow machines)."""
    started = time.perf_counter()
    try:
        message = reduced(raw)
    except redaction.RedactionError as refused:
        assert refused.code in ("unreadable", "own_message")
    else:
        assert isinstance(message.body, str)
    assert time.perf_counter() - started < 5


@dataclass
class Stored:
    id: int
    kind: str
    storage_key: str


def test_a_director_sees_each_file_by_its_place_in_the_contact():
    files = [Stored(12, "email", "b" * 32 + ".eml"), Stored(7, "image", "a" * 32 + ".JPG"),
             Stored(30, "text", "c" * 32 + ".txt"), Stored(31, "image", "d" * 32 + ".png")]
    assert redaction.director_names(files) == {7: "dowod-1.jpg", 12: "dowod-2.txt", 30: "dowod-3.txt",
                                               31: "dowod-4.png"}


@pytest.mark.parametrize(("kind", "name", "data", "expected"), [
    ("email", "odpowiedz.eml", b"anything", True),
    ("text", "stara.EML", b"anything", True),  # stored before e-mails were kept as such
    ("text", "wklejony.txt", b"From: a@b.example\nDate: Thu, 15 Oct 2026 10:20:00 +0200\n\nbody", True),
    ("text", "notatka.txt", b"Notatka: rozmowa z recepcja\nFrom: nobody\n", False),
    ("text", "notatka.txt", "Zażółć gęślą jaźń".encode(), False),
])
def test_a_text_that_is_an_e_mail_is_reduced_as_one(kind, name, data, expected):
    assert redaction.is_email(kind, name, data) is expected
