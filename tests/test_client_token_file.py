"""Contract (issue 10 §5, §7): the token file is private and never a dead end.

- 0600 in a 0700 directory, whatever existed before (also with a fresh HOME and no
  ``KOUNTA_CONFIG_DIR``: the default place under ``~/.config``);
- a file of garbage is one line naming the file (never a KeyError/AttributeError), and logging in
  again sets it aside and starts a new one;
- a malformed entry is one line naming the file when it is the one asked for; the other entries
  keep working and are kept on writes.
"""

from __future__ import annotations

import json
import stat

import pytest
from support_sandbox import company_ids

from kounta_nb import Kounta
from kounta_nb.auth import Token, TokenStore
from kounta_nb.consent import consent_login
from kounta_nb.errors import DataFileError, KountaWarning


@pytest.mark.parametrize("garbage", ["{not json", "[1, 2]", '{"tokens": [1]}', "\x00\x01binary", "null"])
def test_store__a_file_of_garbage_is_one_line_naming_the_file(tmp_path, garbage):
    path = tmp_path / "tokens.json"
    path.write_text(garbage)
    with pytest.raises(DataFileError, match="^The token file .*tokens.json is damaged") as info:
        TokenStore(path).load("https://a/v1/")
    assert "\n" not in str(info.value) and info.value.path == path
    # logging in again is never a dead end: the damaged file is set aside with one warning
    with pytest.warns(KountaWarning, match="was damaged; it was moved to tokens.json.corrupt-"):
        TokenStore(path).save("https://a/v1/", Token("a", company_id=1))
    assert TokenStore(path).load("https://a/v1/", 1).access_token == "a"
    assert [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]


@pytest.mark.parametrize("entry", ["garbage", 7, None, {}, {"access_token": 5}, {"access_token": "a", "expires_at": "soon"},
                                   {"access_token": "a", "company_id": "x"}, {"refresh_token": ["r"]}])
def test_store__a_malformed_entry_is_one_line_and_the_others_are_kept(tmp_path, entry):
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    store.save("https://a/v1/", Token("good", company_id=2))
    data = json.loads(path.read_text())
    data["tokens"]["https://a/v1/|1"] = entry
    path.write_text(json.dumps(data))
    with pytest.raises(DataFileError, match=r"entry for company 1 in the token file .*tokens.json is malformed") as info:
        store.load("https://a/v1/", 1)
    assert "\n" not in str(info.value)
    assert store.load("https://a/v1/", 2).access_token == "good"
    assert store.load("https://a/v1/").access_token == "good"  # the most recent good one
    assert store.companies("https://a/v1/") == [2]
    store.save("https://a/v1/", Token("other", company_id=3))
    assert json.loads(path.read_text())["tokens"]["https://a/v1/|1"] == entry  # kept as it was


def test_store__file_and_directory_made_private_whatever_existed(tmp_path):
    folder = tmp_path / "cfg"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path = folder / "tokens.json"
    path.write_text(json.dumps({"tokens": {"https://a/v1/|1": {"access_token": "a", "company_id": 1}}}))
    path.chmod(0o644)
    store = TokenStore(path)
    assert store.load("https://a/v1/", 1).access_token == "a"  # reading tightens it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    path.chmod(0o644)
    folder.chmod(0o755)
    store.save("https://a/v1/", Token("b", company_id=2))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_store__a_fresh_home_gets_a_private_token_file(sandbox, tmp_path, monkeypatch):
    monkeypatch.delenv("KOUNTA_CONFIG_DIR")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    flow = Kounta.oauth(sandbox.client_id, sandbox.client_secret, sandbox.redirect_uri,
                        api_base=sandbox.api_base, authorize_url=sandbox.authorize_url)  # fmt: skip
    url, _ = flow.authorization_url()
    landed = consent_login(url, email=sandbox.username, password=sandbox.password,
                           redirect_uri=sandbox.redirect_uri, company=company_ids(sandbox)["other"])  # fmt: skip
    k = Kounta.from_flow(flow, flow.fetch_token(landed), cache=False)  # the default token file
    path = tmp_path / ".config" / "kounta_nb" / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    saved = TokenStore().load(sandbox.api_base, k.company_id)
    assert saved is not None and saved.access_token == k.credentials.token.access_token
