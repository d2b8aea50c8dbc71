"""Stored files: one interface over the local folder and an S3-compatible store (moto's S3 server,
real HTTP), files that follow the database transaction, two app processes sharing one bucket, and
the director's appeal-document URL that names nobody and tells nothing to anyone else."""

from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from audit import appeals, create_app, evidence, publication, storage
from audit.cli import storage_cli
from audit.extensions import db
from audit.models import Appeal, Campaign, Contact, Evidence, Setting, User
from audit.storage import LocalStore, S3Store, StorageError

from .conftest import Auth, s3_settings
from .test_fieldwork import hidden_fields, todo

PAST = 3  # the demo's newest published edition
KEY_A, KEY_B, KEY_C = "a" * 32 + ".txt", "b" * 32 + ".jpg", "appeals/" + "c" * 32 + ".txt"


def make_store(kind: str, tmp_path: Path, request) -> storage.Store:
    if kind == "local":
        return LocalStore(tmp_path / "files")
    return S3Store.from_config(s3_settings(request.getfixturevalue("s3_server")))


# --- the interface, on both stores ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["local", "s3"])
@pytest.mark.parametrize("key", ["../secret_key", "/etc/passwd", "appeals/../../x.txt", "", ".hidden", "a//b"])
def test_a_key_that_is_not_a_plain_relative_name_is_refused(kind, key, tmp_path, request):
    store = make_store(kind, tmp_path, request)
    with pytest.raises(StorageError):
        store.put(key, b"x")
    with pytest.raises(StorageError):
        store.open(key)


def test_the_local_store_keeps_the_layout_installs_have_and_lists_no_half_written_file(tmp_path):
    folder = tmp_path / "evidence"
    store = LocalStore(folder)
    store.put(KEY_A, b"one")
    store.put(KEY_C, b"two")
    assert (folder / KEY_A).read_bytes() == b"one" and (folder / "appeals" / ("c" * 32 + ".txt")).read_bytes() == b"two"
    (folder / (KEY_B + storage.PARTIAL + "1234")).write_bytes(b"half")  # a write a crash interrupted
    (folder / ".DS_Store").write_bytes(b"desktop litter")
    assert [f.key for f in store.list()] == [KEY_A, KEY_C]


def test_the_s3_store_keeps_files_under_its_prefix_in_the_bucket(s3_server):
    settings = s3_settings(s3_server)
    store = S3Store.from_config(settings)
    store.put(KEY_C, b"pismo")
    names = [o["Key"] for o in store.client.list_objects_v2(Bucket=settings["S3_BUCKET"])["Contents"]]
    assert names == ["audyt/" + KEY_C] and [f.key for f in store.list()] == [KEY_C]


def test_the_settings_refuse_an_unknown_store_and_s3_without_a_bucket(tmp_path):
    from .conftest import make_app

    with pytest.raises(StorageError, match="local or s3"):
        make_app(tmp_path, EVIDENCE_STORE="disk")
    with pytest.raises(StorageError, match="S3_BUCKET"):
        make_app(tmp_path, EVIDENCE_STORE="s3")


# --- files follow the transaction ---------------------------------------------------------------


def keys(app) -> list[str]:
    return [f.key for f in storage.store_of(app).list()]


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_a_file_stays_only_if_its_transaction_commits(app):
    with app.app_context():
        storage.save(KEY_A, b"kept")
        db.session.add(Setting(key="k1", value="1"))
        db.session.commit()
        storage.save(KEY_B, b"rolled back")
        assert KEY_B in keys(app)  # written at once, before its row commits
        db.session.rollback()
        assert keys(app) == [KEY_A]

        storage.save(KEY_B, b"session closed")
        db.session.remove()  # the end of a request that never committed
        assert keys(app) == [KEY_A]


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_a_file_written_before_a_failing_commit_is_removed(app):
    with app.app_context():
        db.session.add(Setting(key="taken", value="1"))
        db.session.commit()
        storage.save(KEY_B, b"orphan to be")
        db.session.add(Setting(key="taken", value="2"))  # the commit fails on the primary key
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert keys(app) == []


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_a_file_is_deleted_only_after_its_deletion_commits(app):
    with app.app_context():
        storage.save(KEY_A, b"evidence")
        db.session.commit()
        storage.discard(KEY_A)
        assert keys(app) == [KEY_A]  # not before the commit
        db.session.rollback()
        assert keys(app) == [KEY_A]  # the deletion was rolled back: the file stays
        storage.discard(KEY_A)
        db.session.commit()
        assert keys(app) == []


@contextmanager
def refusing(app, table: str, event: str):
    """A trigger that makes the database refuse every INSERT or DELETE on `table`, as a full disk or a
    lost connection would at that point: a real failure inside the request's transaction."""
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        with db.engine.begin() as conn:
            if postgres:
                conn.execute(sa.text("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                     "RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; END $$"))
                conn.execute(sa.text(f"CREATE TRIGGER refuse BEFORE {event} ON {table} FOR EACH ROW "
                                     "EXECUTE FUNCTION refuse()"))
            else:
                conn.execute(sa.text(f"CREATE TRIGGER refuse BEFORE {event} ON {table} "
                                     "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
        db.session.remove()
    try:
        yield
    finally:
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(sa.text(f"DROP TRIGGER refuse ON {table}" if postgres else "DROP TRIGGER refuse"))
                if postgres:
                    conn.execute(sa.text("DROP FUNCTION refuse()"))
            db.session.remove()


def contact_with_draft(app, client, channel: str = "phone") -> int:
    assignment = todo(app, channel)
    Auth(client).as_role("auditor")
    page = client.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    client.post(f"/auditor/assignments/{assignment}", data={**hidden_fields(page), "a_answered": "yes"})
    return assignment


def upload(client, assignment: int, name: str, data: bytes):
    token = hidden_fields(client.get(f"/auditor/assignments/{assignment}").get_data(as_text=True))["csrf_token"]
    return client.post(f"/auditor/assignments/{assignment}/evidence", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": [(io.BytesIO(data), name)]})


def counted_contact(app) -> tuple[int, int]:
    """A counted contact of the demo director's first institution, and that institution."""
    with app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        institution = director.institutions[0].id
        return min(publication.counted_contacts(PAST, institution)), institution


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_a_savepoint_rolled_back_takes_its_files_and_a_released_one_waits_for_the_outer_commit(app):
    with app.app_context():
        storage.save(KEY_A, b"outside the savepoint")
        with db.session.begin_nested() as savepoint:
            storage.save(KEY_B, b"inside, rolled back")
            savepoint.rollback()
        assert keys(app) == [KEY_A]  # the savepoint's file went with it, the outer one stays
        db.session.commit()
        assert keys(app) == [KEY_A]

        with db.session.begin_nested():  # released: its file now lives or dies with the outer transaction
            storage.save(KEY_B, b"inside, released")
        db.session.rollback()
        assert keys(app) == [KEY_A]

        with db.session.begin_nested():  # a deletion in a released savepoint waits for the outer commit
            storage.discard(KEY_A)
        assert keys(app) == [KEY_A]
        db.session.rollback()
        assert keys(app) == [KEY_A]
        with db.session.begin_nested():
            storage.discard(KEY_A)
        db.session.commit()
        assert keys(app) == []


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_an_upload_whose_request_fails_after_the_write_leaves_no_file(demo_app):
    client = demo_app.test_client()
    assignment = contact_with_draft(demo_app, client)
    # TESTING propagates the error; a server answers with the 500 page
    with refusing(demo_app, "evidence", "INSERT"), pytest.raises(sa.exc.IntegrityError):
        upload(client, assignment, "odpowiedz.txt", "Treść".encode())
    assert keys(demo_app) == []
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0
    assert upload(client, assignment, "odpowiedz.txt", "Treść".encode()).status_code == 302  # and it works again
    with demo_app.app_context():
        assert keys(demo_app) == [db.session.scalars(sa.select(Evidence.storage_key)).one()]


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_a_removal_whose_commit_fails_keeps_the_file(demo_app):
    client = demo_app.test_client()
    assignment = contact_with_draft(demo_app, client)
    assert upload(client, assignment, "odpowiedz.txt", "Treść".encode()).status_code == 302
    with demo_app.app_context():
        item_id, key = db.session.execute(sa.select(Evidence.id, Evidence.storage_key)).one()
    token = hidden_fields(client.get(f"/auditor/assignments/{assignment}").get_data(as_text=True))["csrf_token"]
    remove = f"/auditor/assignments/{assignment}/evidence/{item_id}/delete"
    with refusing(demo_app, "evidence", "DELETE"), pytest.raises(sa.exc.IntegrityError):
        client.post(remove, data={"csrf_token": token, "confirm": "1"})
    assert keys(demo_app) == [key] and storage.store_of(demo_app).read(key) == "Treść".encode()
    with demo_app.app_context():
        assert db.session.get(Evidence, item_id) is not None
    assert client.post(remove, data={"csrf_token": token, "confirm": "1"}).status_code == 302
    assert keys(demo_app) == []


# --- moving a local install into a bucket, and checking ------------------------------------------


def test_a_local_install_moves_into_a_bucket_with_one_command(demo_app, tmp_path, s3_server):
    contact_id, _ = counted_contact(demo_app)
    with demo_app.app_context():  # an install on the local folder: evidence and an appeal document
        cleaned = evidence.clean("odpowiedz.txt", "Treść".encode())
        key = storage.save(storage.new_key(cleaned.suffix), cleaned.content)
        db.session.add(Evidence(contact_id=contact_id, kind=cleaned.kind, original_name="odpowiedz.txt",
                                content_type=cleaned.content_type, size=len(cleaned.content), sha256=cleaned.sha256,
                                storage_key=key))
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        appeal = appeals.file_appeal(director, db.session.get(Contact, contact_id), "Źle.",
                                     document=appeals.Document("pismo.txt", b"Pismo"))
        db.session.commit()
        document = appeals.document_key(appeal)
    folder = demo_app.config["EVIDENCE_DIR"]
    bucket = s3_settings(s3_server)
    on_s3 = create_app({**demo_app.config, **bucket})  # the same install, now set to the bucket
    runner = on_s3.test_cli_runner()
    first = runner.invoke(storage_cli, ["copy"])
    assert first.exit_code == 0, first.output
    assert "copied 2 files" in first.output and bucket["S3_BUCKET"] in first.output
    again = runner.invoke(storage_cli, ["copy"])
    assert "copied 0 files" in again.output and "2 were already there" in again.output
    assert sorted(keys(on_s3)) == sorted([key, document])
    assert storage.store_of(on_s3).read(key) == (folder / key).read_bytes()
    checked = runner.invoke(storage_cli, ["check"])
    assert checked.exit_code == 0 and "2 of 2 named files present, 0 files no row names" in checked.output

    storage.store_of(on_s3).delete(key)  # a file lost: the check says so and fails
    storage.store_of(on_s3).put(KEY_A, b"no row names me")
    checked = runner.invoke(storage_cli, ["check", "--delete-orphans"])
    assert checked.exit_code == 1 and f"missing: {key}" in checked.output
    assert "1 files no row names" in checked.output and "deleted 0 orphans" in checked.output  # too new to delete
    assert KEY_A in keys(on_s3)

    refused = demo_app.test_cli_runner().invoke(storage_cli, ["copy"])  # still on the folder itself
    assert refused.exit_code != 0 and "EVIDENCE_STORE=s3" in refused.output


# --- two app processes, one database, one bucket ---------------------------------------------------


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_two_app_instances_on_one_database_and_store_see_each_others_files(app, tmp_path):
    other = create_app(dict(app.config))  # a second process of the same install: same database, same store
    assert other is not app and storage.store_of(other) is not storage.store_of(app)
    with app.app_context():
        storage.save(KEY_A, b"from the first")
        db.session.commit()
    with other.app_context():
        assert storage.store().read(KEY_A) == b"from the first"
        storage.save(KEY_B, b"from the second")
        db.session.commit()
        storage.discard(KEY_A)
        db.session.commit()
    with app.app_context():
        assert storage.store().read(KEY_B) == b"from the second"
        assert [f.key for f in storage.store().list()] == [KEY_B]
        with pytest.raises(storage.MissingFile):
            storage.store().read(KEY_A)


# --- the director's appeal document --------------------------------------------------------------


def main_of(page: str) -> str:
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


@contextmanager
def counting(app):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)




# --- a file that is not yours answers as one that does not exist ------------------------------------

EVERYONE = {"anonymous": None, "director": "director@demo.test", "director2": "director2@demo.test",
            "auditor": "auditor@demo.test", "auditor2": "auditor2@demo.test", "organiser": "organiser@demo.test"}


def requesters(app, names) -> dict[str, object]:
    """Each named requester as a function giving their client: a logged-in one kept, and for the anonymous
    visitor a new one each time (the login redirect flashes into the session, and the flashes pile up)."""
    clients = {}
    for name in names:
        if EVERYONE[name] is None:
            clients[name] = app.test_client
            continue
        client = app.test_client()
        assert Auth(client).login(EVERYONE[name]).status_code == 302, name
        clients[name] = lambda client=client: client
    return clients


def unused_id(app, model, existing: int) -> int:
    """An id no row has, of as many digits as `existing`: the two URLs, and so the two answers, are as long."""
    with app.app_context():
        top = db.session.scalar(sa.select(sa.func.max(model.id)))
    candidate = 10 ** len(str(existing)) - 1
    assert candidate > top, "no unused id of the same length"
    return candidate


def opened_cookie(app, header: str) -> str:
    """A session cookie with its signed value replaced by what it holds (the signature carries the second it
    was made), so that two cookies compare by their contents and attributes."""
    name, _, rest = header.partition("=")
    value, _, attributes = rest.partition(";")
    if name == app.config["SESSION_COOKIE_NAME"] and value:
        serializer = app.session_interface.get_signing_serializer(app)
        value = repr(sorted(serializer.loads(value).items()))
    return f"{name}={value};{attributes}"


def answer(app, client, url: str, instead: str | None = None):
    """Status, every header (cookies included) and body of a GET, with `url` written as `instead` wherever it
    shows (the language links of a 404, the next= of a login redirect), and the SQL it ran."""
    from urllib.parse import quote

    with counting(app) as statements, client.get(url) as response:
        headers, body = sorted(response.headers.items()), response.get_data()
    headers = [(k, opened_cookie(app, v) if k == "Set-Cookie" else v) for k, v in headers]
    if instead is not None:
        swaps = [(url, instead), (quote(url, safe=""), quote(instead, safe="")), (quote(url), quote(instead))]
        for old, new in swaps:
            body = body.replace(old.encode(), new.encode())
            headers = [(k, v.replace(old, new)) for k, v in headers]
    return response.status_code, headers, body, statements


def alike(app, clients, existing: str, missing: str, same_queries: bool) -> dict[str, int]:
    """Each requester gets for `existing` byte for byte what they get for `missing`; returns their statuses."""
    statuses = {}
    for name, client in clients.items():
        answer(app, client(), missing)  # warm: the first request of a client loads what later ones reuse
        status, headers, body, statements = answer(app, client(), existing, instead=missing)
        status_missing, headers_missing, body_missing, statements_missing = answer(app, client(), missing)
        assert status == status_missing, name
        assert headers == headers_missing, name  # Content-Length, Set-Cookie, Content-Type, every one
        assert body == body_missing, name
        if same_queries:
            assert statements == statements_missing, name  # the same work: no time tells them apart
        statuses[name] = status
    return statuses


def test_an_appeal_document_not_ones_own_answers_like_a_missing_one_to_everyone(demo_app):
    contact_id, _ = counted_contact(demo_app)
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        contact = db.session.get(Contact, contact_id)
        with_document = appeals.file_appeal(director, contact, "Źle.", document=appeals.Document("pismo.txt", b"Pismo"))
        second = db.session.get(Contact, max(publication.counted_contacts(PAST, contact.institution_id)))
        assert second.id != contact.id
        without = appeals.file_appeal(director, second, "Bez pisma.")  # one waiting appeal per contact
        db.session.commit()
        ids = with_document.id, without.id
    url = "/director/appeals/{}/document".format
    missing = url(unused_id(demo_app, Appeal, ids[0]))
    assert len(str(ids[1])) == len(str(ids[0]))
    own = requesters(demo_app, ["director"])
    with own["director"]().get(url(ids[0])) as served:
        assert served.status_code == 200 and served.data == b"Pismo"  # the owner gets it: the URL is the right one

    others = requesters(demo_app, ["anonymous", "director2", "auditor", "auditor2", "organiser"])
    statuses = alike(demo_app, others, url(ids[0]), missing, same_queries=True)
    assert statuses == dict.fromkeys(others, 404)
    assert alike(demo_app, own, url(ids[1]), missing, same_queries=True) == {"director": 404}  # no document


def test_evidence_a_director_may_not_see_answers_like_missing_evidence_to_everyone(demo_app):
    from .test_evidence import shared_evidence

    _institution, (item,) = shared_evidence(demo_app, [("odpowiedz.txt", "Treść".encode())])
    with demo_app.app_context():
        auditor = db.session.get(Evidence, item).contact.auditor.email
    url = "/evidence/{}".format
    missing = url(unused_id(demo_app, Evidence, item))
    names = [n for n, email in EVERYONE.items() if email not in (auditor, "organiser@demo.test", "director@demo.test")]
    others = requesters(demo_app, names)
    statuses = alike(demo_app, others, url(item), missing, same_queries=True)
    assert statuses == {n: 302 if n == "anonymous" else 404 for n in names}

    director = requesters(demo_app, ["director"])
    assert director["director"]().get(url(item)).status_code == 200  # shared with the institution's director
    with demo_app.app_context():
        db.session.get(Campaign, PAST).evidence_to_directors = False  # the edition no longer shares evidence
        db.session.commit()
    assert alike(demo_app, director, url(item), missing, same_queries=True) == {"director": 404}


FIELDWORK = 1  # the demo's edition in fieldwork


def test_a_contact_of_their_own_institution_still_in_fieldwork_answers_its_director_like_a_missing_one(demo_app):
    """The director of the institution itself: neither the contact's page nor its evidence (in an edition that
    shares evidence) tells by status, header, body or the work done that a mystery shopper has been at work."""
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        mine = [i.id for i in director.institutions]
        contact = db.session.scalar(sa.select(Contact).where(
            Contact.campaign_id == FIELDWORK, Contact.institution_id.in_(mine), Contact.status == "submitted"))
        db.session.get(Campaign, FIELDWORK).evidence_to_directors = True
        item = Evidence(contact_id=contact.id, kind="text", original_name="notatka.txt", content_type="text/plain",
                        size=5, sha256="0" * 64, storage_key="never-read.txt")
        db.session.add(item)
        db.session.commit()
        contact_id, evidence_id = contact.id, item.id
    own = requesters(demo_app, ["director"])
    page = "/director/contacts/{}".format
    assert alike(demo_app, own, page(contact_id), page(unused_id(demo_app, Contact, contact_id)),
                 same_queries=True) == {"director": 404}
    shown = "/evidence/{}".format
    assert alike(demo_app, own, shown(evidence_id), shown(unused_id(demo_app, Evidence, evidence_id)),
                 same_queries=True) == {"director": 404}
