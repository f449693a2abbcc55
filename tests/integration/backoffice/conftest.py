"""Markets and a plan the back office tests share."""

import pytest

from tests.factories import make_market, make_plan


@pytest.fixture
def us():
    return make_market()


@pytest.fixture
def cn():
    return make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")


@pytest.fixture
def us_plan(us):
    return make_plan(us, "us-30day", price="25.00")
