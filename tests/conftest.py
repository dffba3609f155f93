import pytest

from tests.factories import make_booking, make_business, make_session, make_staff


@pytest.fixture
def business(db):
    return make_business(slug="johnny-bravo-fitness-center", name="Johnny Bravo Fitness Center")


@pytest.fixture
def other_business(db):
    return make_business(slug="other-studio", name="Other Studio")


@pytest.fixture
def session(business):
    return make_session(business=business)


@pytest.fixture
def booking(session):
    return make_booking(session=session)


@pytest.fixture
def staff(business):
    return make_staff(username="desk", businesses=(business,))


@pytest.fixture
def superuser(db):
    return make_staff(username="root", superuser=True)


def pytest_runtest_setup(item):
    """`@pytest.mark.postgres` tests need row locks that SQLite does not have."""
    if item.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip(
                "needs PostgreSQL (row locks): run with DATABASE_URL=postgres://…, as .ci/run does"
            )
