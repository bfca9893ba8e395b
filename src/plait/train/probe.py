"""Whether a server answers at all, asked in bounded time: a compute node without a route to
it finds out in seconds, not after a client's own long timeout."""

from __future__ import annotations

import http.client
import ssl
import threading
import urllib.error
import urllib.request


def unreachable(url: str, timeout: float) -> str | None:
    """Why the server at `url` did not answer within `timeout` seconds; None if it did.

    Any HTTP answer counts, an error status or a TLS refusal included: that the server is
    there is all this asks, and wandb judges the rest. A name lookup that hangs is bounded too.

    Args:
        url: the server's base URL.
        timeout: seconds the whole probe may take.

    Returns:
        None when the server answered, else a short reason ("timed out after 10 s",
        "Connection refused", ...).
    """
    outcome: list[str | None] = []
    probe = threading.Thread(target=lambda: outcome.append(_ask(url, timeout)), daemon=True)
    probe.start()
    probe.join(timeout)
    return outcome[0] if outcome else f"timed out after {timeout:g} s"


def _ask(url: str, timeout: float) -> str | None:
    """One GET of `url`: None if the server answered anything, else why not."""
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
    except urllib.error.HTTPError:
        return None  # an answer, if not a welcome one
    except urllib.error.URLError as err:
        if isinstance(err.reason, ssl.SSLError):
            return None  # a TLS server answered; wandb may trust its certificate
        return _reason(err.reason, timeout)
    except ssl.SSLError:
        return None
    except (OSError, http.client.HTTPException) as err:
        return _reason(err, timeout)
    return None


def _reason(err: object, timeout: float) -> str:
    """A connection error in a few words: "timed out after 10 s", "Connection refused"."""
    if isinstance(err, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__
