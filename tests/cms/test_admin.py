import pytest

from cms.models import ArticlePage
from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(home_page):
    topic = TopicPageFactory(parent=home_page)
    return ArticlePageFactory(
        parent=topic,
        title="Neuvola",
        lead="Rokotusohjelma suojaa lasta.",
        body__0__paragraph="<p>Hammashoitola kutsuu ensimmäiseen tarkastukseen.</p>",
    )


@pytest.mark.parametrize("word", ["Neuvola", "Rokotusohjelma", "Hammashoitola"])
def test_title_lead_and_body_are_searchable(article, word):
    assert list(ArticlePage.objects.search(word)) == [article]


@pytest.mark.parametrize("word", ["Rokotusohjelma", "Hammashoitola"])
def test_admin_page_search_finds_an_article_by_a_word_in_its_lead_or_body(
    article, admin_client, word
):
    response = admin_client.get("/admin/pages/search/", {"q": word})

    assert response.status_code == 200
    assert f"/admin/pages/{article.pk}/edit/" in response.content.decode()


def test_admin_page_search_does_not_list_an_article_for_an_absent_word(article, admin_client):
    response = admin_client.get("/admin/pages/search/", {"q": "Kissa"})

    assert f"/admin/pages/{article.pk}/edit/" not in response.content.decode()


@pytest.mark.parametrize("model", ["topic", "lifesituation", "targetgroup"])
def test_vocabularies_are_listed_in_the_admin(home_page, admin_client, model):
    response = admin_client.get(f"/admin/snippets/cms/{model}/")

    assert response.status_code == 200


def test_article_and_topic_pages_render_without_a_frontend(article, client):
    assert client.get(article.get_parent().url).status_code == 200
    response = client.get(article.url)

    assert response.status_code == 200
    assert "Rokotusohjelma suojaa lasta." in response.content.decode()


def test_the_article_editor_opens_under_a_topic(article, admin_client):
    response = admin_client.get(f"/admin/pages/add/cms/articlepage/{article.get_parent().pk}/")

    assert response.status_code == 200
    assert 'name="lead"' in response.content.decode()
