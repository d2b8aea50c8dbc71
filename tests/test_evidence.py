"""Evidence files: cleaned of identifying metadata, limited, stored privately, served to the allowed."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image, PngImagePlugin

from audit import evidence, storage
from audit.extensions import db
from audit.models import Campaign, Evidence

from .conftest import Auth
from .test_fieldwork import hidden_fields, todo

ORIENTATION, MAKE, MODEL, DATETIME, GPS_IFD = 0x0112, 0x010F, 0x0110, 0x0132, 0x8825


def camera_photo() -> bytes:
    """A 40x20 JPEG as a phone makes it: turned by an orientation tag, with maker and GPS metadata."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    exif[MAKE], exif[MODEL], exif[DATETIME] = "AcmeCam", "Pocket 7 of Jan Kowalski", "2026:11:20 10:15:00"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 13.0, 37.5), 3: "E", 4: (21.0, 0.0, 42.0)})
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_loses_its_metadata_but_keeps_its_orientation():
    original = camera_photo()
    assert b"AcmeCam" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    cleaned = evidence.clean("IMG_0001.JPG", original)
    assert cleaned.kind == "image" and cleaned.content_type == "image/jpeg"
    for secret in (b"AcmeCam", b"Kowalski", b"2026:11:20", b"Exif"):
        assert secret not in cleaned.content
    image = Image.open(io.BytesIO(cleaned.content))
    assert not image.getexif() and image.size == (20, 40)  # the pixels were turned, the tag dropped
    assert image.getpixel((10, 20))[0] > 150  # still the red picture


def test_a_screenshot_stays_lossless_and_loses_its_text_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jan Kowalski")
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (0, 0, 255, 255)).save(out, "PNG", pnginfo=info)
    cleaned = evidence.clean("screen.png", out.getvalue())
    assert cleaned.content_type == "image/png" and b"Kowalski" not in cleaned.content
    assert Image.open(io.BytesIO(cleaned.content)).getpixel((5, 5)) == (0, 0, 255, 255)


def test_a_large_photo_is_shrunk_for_reviewers():
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 120, 10)).save(out, "JPEG")
    cleaned = evidence.clean("big.jpg", out.getvalue())
    assert Image.open(io.BytesIO(cleaned.content)).size == (evidence.MAX_SIDE, evidence.MAX_SIDE * 3 // 4)


@pytest.mark.parametrize(("name", "data", "code"), [
    ("x.jpg", b"", "empty"),
    ("x.jpg", b"MZ\x90\x00 not a picture", "not_image"),
    ("x.exe", b"MZ\x90\x00", "not_image"),
    ("x.jpg", b"\xff" * (evidence.MAX_IMAGE_BYTES + 1), "too_large"),
    ("mail.eml", b"a" * (evidence.MAX_TEXT_BYTES + 1), "too_large"),
    ("mail.txt", b"binary\x00data", "not_text"),
])
def test_bad_files_are_refused_with_a_reason(name, data, code):
    with pytest.raises(evidence.EvidenceError) as refused:
        evidence.clean(name, data)
    assert refused.value.code == code


def test_an_image_bomb_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (10_000, 7_000)).save(out, "PNG")  # 70 megapixels in a small file
    assert len(out.getvalue()) < evidence.MAX_IMAGE_BYTES
    with pytest.raises(evidence.EvidenceError) as refused:
        evidence.clean("bomb.png", out.getvalue())
    assert refused.value.code == "too_many_pixels"


def test_an_email_text_in_an_old_polish_encoding_is_kept_as_utf8():
    cleaned = evidence.clean("odpowiedz.txt", "Dzień dobry, w załączeniu wniosek.".encode("cp1250"))
    assert cleaned.kind == "text" and cleaned.content.decode("utf-8") == "Dzień dobry, w załączeniu wniosek."


# --- over HTTP ----------------------------------------------------------------------------------

def upload(client, assignment_id, files):
    page = client.get(f"/auditor/assignments/{assignment_id}").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    return client.post(f"/auditor/assignments/{assignment_id}/evidence", data={"csrf_token": token, "file": files},
                       content_type="multipart/form-data", follow_redirects=True)


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_evidence_is_stored_privately_and_served_only_to_its_auditor_and_organisers(demo_app, demo_client,
                                                                                   evidence_store):
    assignment = todo(demo_app, "visit")
    auth = Auth(demo_client)
    auth.as_role("auditor")
    page = demo_client.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    assert "Najpierw zapisz szkic" in page  # no contact yet, nothing to attach to
    demo_client.post(f"/auditor/assignments/{assignment}", data={**hidden_fields(page), "a_signage": "yes"})

    response = upload(demo_client, assignment, [(io.BytesIO(camera_photo()), "IMG_0001.JPG"),
                                                (io.BytesIO(b"MZ\x90"), "program.exe")])
    page = response.get_data(as_text=True)
    assert "Dołączono: IMG_0001.JPG" in page
    assert "program.exe: Można dołączyć tylko obrazy" in page
    with demo_app.app_context():
        (item,) = db.session.scalars(sa.select(Evidence)).all()
    store = storage.store_of(demo_app)
    stored = store.read(item.storage_key)
    assert b"AcmeCam" not in stored and [f.key for f in store.list()] == [item.storage_key]
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", item.storage_key)
    if evidence_store == "local":  # the layout installs have always had, outside the static folder
        assert (demo_app.config["EVIDENCE_DIR"] / item.storage_key).read_bytes() == stored
        assert demo_app.static_folder not in str(demo_app.config["EVIDENCE_DIR"])
    else:  # nothing on this machine's disk
        assert not demo_app.config["EVIDENCE_DIR"].exists()

    with demo_client.get(f"/evidence/{item.id}") as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg" and served.data == stored
        assert served.headers["Content-Length"] == str(len(stored))
        assert "no-store" in served.headers["Cache-Control"]
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert "Last-Modified" not in served.headers and "ETag" not in served.headers  # no upload time

    token = hidden_fields(page)["csrf_token"]
    demo_client.post("/logout", data={"csrf_token": token})
    auth.login("auditor2@demo.test")
    assert demo_client.get(f"/evidence/{item.id}").status_code == 404
    demo_client.post("/logout", data={"csrf_token": hidden_fields(demo_client.get("/auditor/").get_data(as_text=True))["csrf_token"]})
    auth.as_role("director")  # the contact is not in a published result shared with directors
    assert demo_client.get(f"/evidence/{item.id}").status_code == 404
    fresh = demo_app.test_client()
    Auth(fresh).as_role("organiser")
    with fresh.get(f"/evidence/{item.id}") as served:
        assert served.status_code == 200


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_removing_evidence_deletes_the_file(demo_app, demo_client):
    assignment = todo(demo_app, "phone")
    Auth(demo_client).as_role("auditor")
    page = demo_client.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    demo_client.post(f"/auditor/assignments/{assignment}", data={**hidden_fields(page), "a_answered": "yes"})
    upload(demo_client, assignment, [(io.BytesIO("Treść odpowiedzi".encode()), "odpowiedz.txt")])
    with demo_app.app_context():
        item = db.session.scalars(sa.select(Evidence)).one()
    store = storage.store_of(demo_app)
    assert store.read(item.storage_key).decode() == "Treść odpowiedzi"
    token = hidden_fields(demo_client.get(f"/auditor/assignments/{assignment}").get_data(as_text=True))["csrf_token"]
    asked = demo_client.post(f"/auditor/assignments/{assignment}/evidence/{item.id}/delete",
                             data={"csrf_token": token})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Usunąć ten plik?" in page and "odpowiedz.txt" in page
    assert 'name="confirm" value="1"' in page and "nie da się go przywrócić" in page
    assert store.exists(item.storage_key)  # asked, not deleted
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 1
    demo_client.post(f"/auditor/assignments/{assignment}/evidence/{item.id}/delete",
                     data={"csrf_token": token, "confirm": "1"})
    assert not store.exists(item.storage_key) and list(store.list()) == []
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0


def test_after_fieldwork_a_draft_takes_no_new_evidence(demo_app, demo_client):
    assignment = todo(demo_app, "visit")
    Auth(demo_client).as_role("auditor")
    page = demo_client.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    demo_client.post(f"/auditor/assignments/{assignment}", data={**hidden_fields(page), "a_signage": "yes"})
    with demo_app.app_context():
        db.session.get(Campaign, 1).status = "review"
        db.session.commit()
    page = upload(demo_client, assignment, [(io.BytesIO(camera_photo()), "IMG_0002.JPG")]).get_data(as_text=True)
    assert "Badanie terenowe w tej edycji jest zamknięte" in page and "Dołączono" not in page
    with demo_app.app_context():
        assert db.session.scalars(sa.select(Evidence)).all() == []


# --- what a director receives -----------------------------------------------------------------

PAST = 3  # the demo's newest published edition
PHOTO_NAME = "IMG_20261015_101512_Jan_Kowalski.jpg"
EMAIL_NAME = "Odpowiedź urzędu dla Jana Kowalskiego.eml"


def institution_reply() -> bytes:
    from .test_redaction import REPLY
    return REPLY


def shared_evidence(app, files: list[tuple[str, bytes]]) -> tuple[int, list[int]]:
    """Files attached, through the upload's own cleaning, to a counted contact of the demo director's
    institution in an edition that shares evidence; its auditor is renamed Jan Kowalski.
    Returns the institution and the evidence ids."""
    from audit import publication
    from audit.models import Campaign, Contact, User

    with app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        institution_id = director.institutions[0].id
        contact = db.session.get(Contact, min(publication.counted_contacts(PAST, institution_id)))
        contact.auditor.name = "Jan Kowalski"
        db.session.get(Campaign, PAST).evidence_to_directors = True
        items = []
        for name, data in files:
            cleaned = evidence.clean(name, data)
            items.append(Evidence(contact_id=contact.id, kind=cleaned.kind, original_name=name, size=len(cleaned.content),
                                  content_type=cleaned.content_type, sha256=cleaned.sha256,
                                  storage_key=storage.save(storage.new_key(cleaned.suffix), cleaned.content)))
        db.session.add_all(items)
        db.session.commit()
        return institution_id, [i.id for i in items]


def auditor_of(app, evidence_id: int) -> tuple[str, str, str]:
    with app.app_context():
        auditor = db.session.get(Evidence, evidence_id).contact.auditor
        return auditor.name, auditor.email, auditor.pseudonym


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_a_director_gets_the_institutions_reply_and_nothing_that_names_the_auditor(demo_app, auth):
    _, (_photo, mail) = shared_evidence(demo_app, [(PHOTO_NAME, camera_photo()), (EMAIL_NAME, institution_reply())])
    name, email, pseudonym = auditor_of(demo_app, mail)
    auth.as_role("director")
    with auth.client.get(f"/evidence/{mail}") as served:
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert served.headers["Content-Disposition"] == "attachment; filename=dowod-2.txt"
        assert "no-store" in served.headers["Cache-Control"] and "sandbox" in served.headers["Content-Security-Policy"]
        text = served.get_data(as_text=True)
    assert "Od: Sekretariat Urzędu <sekretariat@um-lipno.pl>" in text
    assert "Temat: Re: Pytanie o godziny otwarcia urzędu" in text and "Data: Thu, 15 Oct 2026 10:20:00 +0200" in text
    assert f"Szanowny Panie [{pseudonym}],\n\nurząd jest czynny od 8 do 16." in text
    for secret in ("Kowalski", "Janku", "jan.k.1985", "poczta.example", "198.51.100.23", "Received", "Message-ID",
                   "CAF1234567", "CAB98765", "Marta", "600 100 200", name, email):
        assert secret not in text


def test_a_director_sees_neutral_file_names_on_the_scorecard_and_in_the_download(demo_app, auth):
    institution_id, (photo, mail, note) = shared_evidence(demo_app, [
        (PHOTO_NAME, camera_photo()), (EMAIL_NAME, institution_reply()),
        ("notatka Jana Kowalskiego.txt", "Rozmowa z recepcją; zapisał Jan Kowalski.".encode())])
    name, _email, pseudonym = auditor_of(demo_app, mail)
    auth.as_role("director")
    page = auth.client.get(f"/director/campaigns/{PAST}/institutions/{institution_id}").get_data(as_text=True)
    links = re.findall(r'<a href="/evidence/(\d+)"[^>]*>([^<]*)</a>', page)
    assert links == [(str(photo), "dowod-1.jpg"), (str(mail), "dowod-2.txt"), (str(note), "dowod-3.txt")]
    for secret in ("IMG_2026", "Kowalsk", "Odpowiedź urzędu", "notatka", name):
        assert secret not in page
    with auth.client.get(f"/evidence/{photo}") as served:
        assert served.mimetype == "image/jpeg" and served.headers["Content-Disposition"] == "inline; filename=dowod-1.jpg"
        assert b"Kowalski" not in served.data and b"AcmeCam" not in served.data
    with auth.client.get(f"/evidence/{note}") as served:
        assert served.headers["Content-Disposition"] == "attachment; filename=dowod-3.txt"
        assert served.get_data(as_text=True) == f"Rozmowa z recepcją; zapisał [{pseudonym}]."


def test_organisers_and_the_auditor_get_the_original_under_its_own_name_with_one_charset(demo_app):
    _, (mail, note) = shared_evidence(demo_app, [(EMAIL_NAME, institution_reply()),
                                                 ("notatka.txt", "Zażółć".encode("cp1250"))])
    _name, email, _pseudonym = auditor_of(demo_app, mail)
    for login in ("organiser@demo.test", email):
        client = demo_app.test_client()
        Auth(client).login(login)
        with client.get(f"/evidence/{mail}") as served:
            assert served.status_code == 200 and served.data == institution_reply()  # byte for byte
            assert served.headers["Content-Type"] == "message/rfc822"
            assert "Odpowied" in served.headers["Content-Disposition"]  # the original name, RFC 5987-encoded
        with client.get(f"/evidence/{note}") as served:
            assert served.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert served.get_data(as_text=True) == "Zażółć"
            assert served.headers["Content-Disposition"] == "attachment; filename=notatka.txt"


def test_the_auditors_own_message_or_a_broken_one_gives_a_director_a_notice_only(demo_app, auth):
    own = b"From: Jan Kowalski <jan.k.1985@poczta.example>\nTo: urzad@gmina.example\nSubject: Pytanie\n\nTekst audytora\n"
    broken = b"\xff\xfe garbage without headers \x01\x02"
    _, (mine, bad) = shared_evidence(demo_app, [("moja.eml", own), ("zepsuta.eml", broken)])
    auth.as_role("director")
    for evidence_id, notice in ((mine, "napisał audytor"), (bad, "nie dało się bezpiecznie odczytać")):
        with auth.client.get(f"/evidence/{evidence_id}") as served:
            text = served.get_data(as_text=True)
            assert served.status_code == 200 and notice in text
            assert "Kowalski" not in text and "Tekst audytora" not in text and "garbage" not in text
