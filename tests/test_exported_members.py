"""The public surface is curated: everything in __all__ resolves, and nothing else is advertised."""

import kounta_nb


def test_all_names_resolve():
    for name in kounta_nb.__all__:
        assert getattr(kounta_nb, name) is not None, name


def test_errors_form_one_tree():
    for name in kounta_nb.__all__:
        obj = getattr(kounta_nb, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, kounta_nb.KountaError | kounta_nb.KountaWarning), name


def test_token_expired_message_says_how_to_reconnect():
    msg = str(kounta_nb.TokenExpiredError())
    assert "reconnect" in msg and "%kounta login" in msg
