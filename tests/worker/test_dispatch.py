from __future__ import annotations

import json

import pytest
from livekit import api

from halfcascade import MissingCredentialsError
from halfcascade.worker import dispatch_token

pytestmark = pytest.mark.unit

SECRET = "s" * 32


def test_token_joins_the_room_and_dispatches_the_agent() -> None:
    jwt = dispatch_token(
        room="pet-42",
        identity="user-7",
        agent_name="companion",
        metadata={"user_id": "user-7", "persona": "biscuit"},
        api_key="devkey",
        api_secret=SECRET,
    )
    claims = api.TokenVerifier("devkey", SECRET).verify(jwt)
    assert claims.identity == "user-7"
    assert claims.video.room == "pet-42" and claims.video.room_join
    (dispatch,) = claims.room_config.agents
    assert dispatch.agent_name == "companion"
    assert json.loads(dispatch.metadata) == {"user_id": "user-7", "persona": "biscuit"}


def test_missing_livekit_credentials_are_listed() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        dispatch_token(room="r", identity="u", agent_name="a")
    assert info.value.missing == ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
