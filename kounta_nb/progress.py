"""Progress bars whose saved output shows how they ended.

A tqdm bar in a notebook is an ipywidget. When the notebook is saved without widget state (the
JupyterLab default, nbconvert, GitHub), only the plain-text twin of the widget remains — and
tqdm writes that once, when the bar appears: ``0req [00:00, ?req/s]`` forever. The bars made
here are shown under a display id instead, and :meth:`close` re-publishes that output with the
final line (or with nothing, for a bar that is not meant to stay), so the saved notebook tells
how the work ended. Outside a notebook this is plain ``tqdm.auto``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(**options: Any) -> Any:
    """A ``tqdm.auto`` bar (``options`` as for tqdm) whose notebook output ends in its final
    state when it is closed; ``None`` when tqdm is not importable (a stripped install)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    try:
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:  # no ipywidgets: tqdm.auto is the terminal bar
        return tqdm(**options)
    if not issubclass(tqdm, notebook_tqdm):
        return tqdm(**options)
    return _closing_bar_class(notebook_tqdm)(**options)


_CLASS: list[type] = []


def _closing_bar_class(base: type) -> type:
    """The notebook bar with a display id (built once; tqdm.notebook is imported lazily)."""
    if _CLASS:
        return _CLASS[0]

    # the base is tqdm.notebook's bar, imported lazily (and untyped): a class known at run time
    class ClosingBar(base):  # type: ignore[misc]
        """tqdm.notebook's bar, shown under a display id and re-published when closed."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["display"] = False
            super().__init__(*args, **kwargs)
            self._handle: Any = None
            if not self.disable and getattr(self, "delay", 0) <= 0:
                from IPython.display import display

                # IPython's display() has no annotations
                self._handle = display(self.container, display_id=True)  # type: ignore[no-untyped-call]
                self.displayed = True

        def close(self) -> None:
            if self.disable:
                return
            handle, self._handle = self._handle, None
            super().close()
            if handle is None:
                return
            try:
                if self.leave:
                    # The widget again (same model, so a live view is unchanged) with a
                    # plain-text twin that now reads the final line.
                    handle.update(self.container)
                else:
                    handle.update({"text/plain": ""}, raw=True)
            except Exception:  # noqa: BLE001 - a display that went away never breaks the work
                pass

    _CLASS.append(ClosingBar)
    return ClosingBar
