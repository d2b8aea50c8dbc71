"""Long organiser pages: 50 rows a page, filters and a search kept in the URL, figures over the whole
filtered set (not over the rows shown), and pagination controls a screen reader can follow."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from audit.extensions import db
from audit.models import Contact, Institution, RevisionStanding
from audit.paging import Page
from bench import national

from .conftest import Auth, make_app

INSTITUTIONS = 120


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("paging"))
    with app.app_context():
        built = national.build(INSTITUTIONS)
        db.session.remove()
    client = app.test_client()
    Auth(client).login(built.organiser, national.PASSWORD)
    yield app, client, built
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def rows(html: str) -> list[str]:
    """The row headers of the page's table (each institution or contact shown)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row">(.*?)</th>', body, re.S)


def test_a_page_window_shows_the_ends_and_the_neighbours():
    assert Page([], 5, 500).window() == [1, None, 3, 4, 5, 6, 7, None, 10]
    assert Page([], 1, 120).window() == [1, 2, 3]
    assert Page([], 1, 0).pages == 1


@pytest.mark.parametrize("url", ["/organiser/campaigns/{c}/revisions/1", "/organiser/campaigns/{c}/ranking",
                                 "/organiser/campaigns/{c}/progress", "/organiser/people?role=director"])
def test_long_lists_show_fifty_rows_a_page_with_accessible_controls(edition, url):
    _app, client, built = edition
    url = url.format(c=built.campaign_id)
    first = client.get(url).get_data(as_text=True)
    assert len(rows(first)) == 50
    nav = first.split('<nav class="pager" aria-label="Strony">', 1)[1].split("</nav>", 1)[0]  # Polish first
    assert re.search(r'aria-current="page"[^>]*>1</a>', nav)
    assert 'rel="next"' in nav and 'rel="prev"' not in nav
    last = client.get(url + ("&" if "?" in url else "?") + "page=3").get_data(as_text=True)
    assert len(rows(last)) == INSTITUTIONS - 100
    assert not set(rows(first)) & set(rows(last))
    assert "Wiersze 101–120 z 120." in last
    assert len(rows(client.get(url + ("&" if "?" in url else "?") + "page=99").get_data(as_text=True))) == 20


def test_the_revision_filters_and_counts_the_whole_filtered_set_in_the_url(edition):
    app, client, built = edition
    with app.app_context():
        helpline = db.session.execute(sa.select(sa.func.count(), sa.func.sum(sa.cast(RevisionStanding.licensed, sa.Integer)))
                                      .where(RevisionStanding.category == "helpline")).one()
    html = client.get(f"/organiser/campaigns/{built.campaign_id}/revisions/1?category=helpline").get_data(as_text=True)
    assert helpline[0] == INSTITUTIONS // 4
    assert f"Na liście {helpline[0]} instytucji, z licencją: {helpline[1] or 0}." in html
    assert len(rows(html)) == helpline[0]
    assert '<option value="helpline" selected>' in html
    found = client.get(f"/organiser/campaigns/{built.campaign_id}/revisions/1?q=urząd+00007").get_data(as_text=True)
    assert [r.strip() for r in rows(found)] == ["Urząd 00007 w Miejscowości 7"]  # "Urząd" folded: ą, not ASCII


def test_the_ranking_and_the_board_keep_their_filters_on_every_page_link(edition):
    app, client, built = edition
    with app.app_context():
        names = set(db.session.scalars(sa.select(Institution.name).where(Institution.region == "mazowieckie")))
    html = client.get(f"/organiser/campaigns/{built.campaign_id}/ranking?region=mazowieckie").get_data(as_text=True)
    assert {re.sub(r"<[^>]+>", "", r).strip() for r in rows(html)} == names
    assert 'class="pager"' not in html  # 20 institutions: one page
    board = client.get(f"/organiser/campaigns/{built.campaign_id}/progress?state=accepted&category=")
    nav = board.get_data(as_text=True).split('<nav class="pager"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'href="([^"]+)"', nav)
    assert links and all("state=accepted" in link and "page=" in link for link in links)


def test_the_review_queue_filters_by_channel_and_auditor(edition):
    app, client, built = edition
    with app.app_context():
        waiting = db.session.scalar(sa.select(sa.func.count()).where(Contact.status == "submitted",
                                                                      Contact.channel == "phone"))
        auditor = db.session.scalar(sa.select(Contact.auditor_id).where(Contact.status == "submitted")
                                    .order_by(Contact.id).limit(1))
        by_auditor = db.session.scalar(sa.select(sa.func.count()).where(Contact.status == "submitted",
                                                                         Contact.auditor_id == auditor))
    base = f"/organiser/campaigns/{built.campaign_id}/review"
    assert len(rows(client.get(base).get_data(as_text=True))) == 50
    phone = client.get(f"{base}?channel=phone").get_data(as_text=True)
    assert len(rows(phone)) == min(waiting, 50)
    assert f"{waiting} kontakt" in phone
    assert len(rows(client.get(f"{base}?auditor={auditor}").get_data(as_text=True))) == min(by_auditor, 50)
    assert "Żaden oczekujący kontakt" in client.get(f"{base}?q=nie+ma+takiej").get_data(as_text=True)


def test_people_are_found_by_name_and_directors_listed_with_their_institutions(edition):
    app, client, built = edition
    html = client.get("/organiser/people?role=director&q=dyrektor+00042").get_data(as_text=True)
    assert len(rows(html)) == 1
    with app.app_context():
        name = db.session.get(Institution, built.institution_id + 41).name
    assert name in html
